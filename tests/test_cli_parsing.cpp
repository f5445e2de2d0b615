// Every subcommand's options, parsed in-process: what each bad value is told, and what good ones
// become. The binary's own tests (test_cli.cpp and the others) keep one case per exit code.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

// argv as parse_cli takes it: the program's name first.
std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out{"vae_cnn"};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// `line` is refused as a usage error whose one-line message holds `fragment`.
void expect_usage_error(const std::string& line, const std::string& fragment) {
  try {
    parse_cli(words(line));
    ADD_FAILURE() << line << ": accepted";
  } catch (const UsageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(fragment), std::string::npos) << line << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << line << ": " << message;
  }
}

TEST(CliParsing, TrainRefusesEachBadValueNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"train --epochs 0", "--epochs"},
      {"train --epochs -3", "--epochs"},
      {"train --epochs abc", "--epochs must be a whole number, got abc"},
      {"train --epochs 99999999999999999999", "--epochs must be between 1 and 1000000, got 99999999999999999999"},
      {"train --batch-size 0", "--batch-size"},
      {"train --latent-dim 0", "--latent-dim"},
      {"train --latent-dim 4097", "--latent-dim"},
      {"train --lr 0", "--lr"},
      {"train --lr fast", "--lr"},
      {"train --beta -1", "--beta"},
      {"train --beta 1e308", "--beta must be between 0 and 1000000, got 1e+308"},
      {"train --threads -1", "--threads must be between 0 (all cores) and 1024"},
      {"train --limit -5", "--limit must be 0 (all images) or more"},
      {"train --kl-warmup -1", "--kl-warmup"},
      {"train --lr-warmup -1", "--lr-warmup"},
      {"train --precision fp16", "--precision must be fp32 or bf16, got fp16"},
      {"train --revive -1", "--revive must be between 0 (never) and 1000000 epochs, got -1"},
      {"train --revive 1000001", "--revive must be between 0 (never) and 1000000 epochs"},
      {"train --optimizer sgd", "--optimizer must be adam or rmsprop, got sgd"},
      {"train --init glorot", "--init must be keras or torch, got glorot"},
      {"train --device tpu", "--device must be auto, cpu, cuda or cuda:N, got tpu"},
      {"train --threads 2000", "--threads"},
      {"train --limit -1", "--limit"},
      {"train --seed -1", "--seed"},
      {"train --dist-timeout 0", "--dist-timeout"},
      {"train --resume --overwrite", "--resume and --overwrite exclude each other"},
      {"train --bogus", "bogus"},
      {"train stray", "unexpected argument 'stray'"},
  };
  for (const auto& [line, fragment] : cases) expect_usage_error(line, fragment);
}

TEST(CliParsing, TrainTakesTheSeedsDefaultsAndRecordsWhatWasGiven) {
  EXPECT_EQ(std::get<TrainCommand>(parse_cli(words("train"))).config.lr_warmup, 100);
  EXPECT_EQ(std::get<TrainCommand>(parse_cli(words("train"))).config.revive_epochs, 10);
  EXPECT_EQ(std::get<TrainCommand>(parse_cli(words("train --revive 0"))).config.revive_epochs, 0);
  EXPECT_TRUE(std::get<TrainCommand>(parse_cli(words("train"))).config.cuda_graph);
  EXPECT_FALSE(std::get<TrainCommand>(parse_cli(words("train --no-cuda-graph"))).config.cuda_graph);
  const auto command = std::get<TrainCommand>(parse_cli(words("train --bce --lr-warmup 50 --seed 3")));
  EXPECT_EQ(command.config.loss, LossKind::kBce);
  EXPECT_EQ(command.config.epochs, 50);
  EXPECT_EQ(command.config.batch_size, 128);
  EXPECT_DOUBLE_EQ(command.config.learning_rate, 1e-3);
  EXPECT_EQ(command.config.init, InitKind::kKeras);
  EXPECT_EQ(command.config.lr_warmup, 50);
  EXPECT_EQ(command.config.seed, 3u);
  EXPECT_TRUE(command.seed_given);
  EXPECT_FALSE(command.resume);
  EXPECT_EQ(command.explicit_fields.count("lr_warmup"), 1u);
  EXPECT_EQ(command.explicit_fields.count("epochs"), 0u);
  const auto resumed = std::get<TrainCommand>(parse_cli(words("train --resume --epochs 60")));
  EXPECT_TRUE(resumed.resume);
  EXPECT_EQ(resumed.resume_path, "");
}

TEST(CliParsing, OtherCommandsRefuseEachBadValue) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "no command given"},
      {"fly", "unknown command 'fly'"},
      {"summary --latent-dim x", "--latent-dim"},
      {"summary --out x", "Option 'out' does not exist"},
      {"plot", "--weights is required"},
      {"plot -w x.pt --grid 0", "--grid"},
      {"plot -w x.pt --grid many", "--grid"},
      {"plot -w x.pt --range -1", "--range"},
      {"plot -w x.pt --device tpu", "tpu"},
      {"eval", "--weights is required"},
      {"eval -w x.pt --iw 0", "--iw"},
      {"eval -w x.pt --split valid", "--split"},
      {"eval -w x.pt --seed -1", "--seed"},
      {"encode", "--weights is required"},
      {"encode -w x.pt --split valid", "--split"},
      {"decode -w x.pt", "-z"},
      {"decode -w x.pt -z 1,abc", "-z"},
      {"interpolate -w x.pt --from 3", "--to is required"},
      {"interpolate -w x.pt --from -1 --to 2", "--from and --to"},
      {"interpolate -w x.pt --from 1 --to 2 --steps 1", "--steps"},
  };
  for (const auto& [line, fragment] : cases) expect_usage_error(line, fragment);
}

TEST(CliParsing, PlotSplitsWhatIsComputedFromHowItIsDrawn) {
  const auto command = std::get<PlotCommand>(
      parse_cli(words("plot -w w.pt --grid 12 --range 2.5 --annotate --seed 4 --out pics --data d")));
  EXPECT_EQ(command.weights, "w.pt");
  EXPECT_EQ(command.data_dir, "d");
  EXPECT_EQ(command.inputs.grid, 12);
  EXPECT_DOUBLE_EQ(command.inputs.range, 2.5);
  EXPECT_EQ(command.inputs.sample_seed, 4u);
  EXPECT_EQ(command.options.out_dir, "pics");
  EXPECT_TRUE(command.options.annotate);
  EXPECT_EQ(command.device, "cpu");
}

TEST(CliParsing, HelpIsTextToPrint) {
  for (const char* command : {"train", "summary", "encode", "decode", "plot", "eval", "interpolate"}) {
    const auto parsed = parse_cli({"vae_cnn", command, "--help"});
    ASSERT_TRUE(std::holds_alternative<PrintText>(parsed)) << command;
    EXPECT_NE(std::get<PrintText>(parsed).text.find(std::string("vae_cnn ") + command), std::string::npos) << command;
  }
}

}  // namespace
}  // namespace vae_cnn
