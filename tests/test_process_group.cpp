// The c10d process group behind data-parallel training: launcher variables, and two ranks (two
// threads of this test, over loopback) broadcasting, summing, and failing within their timeout.
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/train/process_group.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using std::chrono::milliseconds;

std::function<const char*(const char*)> lookup_in(const std::map<std::string, std::string>& variables) {
  return [&variables](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  };
}

LauncherEnv loopback_rank(int rank, int world_size, int port) {
  LauncherEnv env;
  env.rank = rank;
  env.world_size = world_size;
  env.local_rank = rank;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  return env;
}

TEST(LauncherEnv, OneProcessWithoutTheLaunchersVariables) {
  EXPECT_FALSE(read_launcher_env(lookup_in({})).has_value());
  const std::map<std::string, std::string> single{{"WORLD_SIZE", "1"}, {"RANK", "0"}};
  EXPECT_FALSE(read_launcher_env(lookup_in(single)).has_value());
}

TEST(LauncherEnv, ReadsWhatTorchrunSets) {
  const std::map<std::string, std::string> variables{{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"},
                                                     {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29500"}};
  const auto env = read_launcher_env(lookup_in(variables));
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->master_addr, "10.0.0.7");
  EXPECT_EQ(env->master_port, 29500);
}

TEST(LauncherEnv, MalformedOrMissingVariablesAreNamed) {
  std::map<std::string, std::string> variables{{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "127.0.0.1"},
                                               {"MASTER_PORT", "29500"}};
  expect_throw_with<UsageError>([&] { read_launcher_env(lookup_in(variables)); }, {"RANK='2'", "0..1"});
  variables["RANK"] = "1";
  variables["MASTER_PORT"] = "port";
  expect_throw_with<UsageError>([&] { read_launcher_env(lookup_in(variables)); }, {"MASTER_PORT='port'"});
  variables.erase("MASTER_PORT");
  expect_throw_with<UsageError>([&] { read_launcher_env(lookup_in(variables)); }, {"MASTER_PORT is not set"});
  variables["MASTER_PORT"] = "29500";
  variables.erase("MASTER_ADDR");
  expect_throw_with<UsageError>([&] { read_launcher_env(lookup_in(variables)); }, {"MASTER_ADDR is not set"});
}

TEST(LauncherEnv, UnderTorchrunEveryRankUsesTheAgentsStore) {
  std::map<std::string, std::string> variables{{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"},
                                               {"MASTER_PORT", "29500"}};
  auto env = read_launcher_env(lookup_in(variables));
  ASSERT_TRUE(env.has_value());
  EXPECT_FALSE(env->agent_store);
  EXPECT_EQ(env->local_world_size, 2);  // assumed all on this machine when LOCAL_WORLD_SIZE is unset
  variables["TORCHELASTIC_USE_AGENT_STORE"] = "True";
  variables["TORCHELASTIC_RESTART_COUNT"] = "2";
  variables["LOCAL_WORLD_SIZE"] = "1";
  env = read_launcher_env(lookup_in(variables));
  EXPECT_TRUE(env->agent_store);
  EXPECT_EQ(env->store_prefix, "/worker/attempt_2");
  EXPECT_EQ(env->local_world_size, 1);
}

TEST(RowShard, RanksTakeContiguousSharesThatCoverTheBatchOnce) {
  for (const std::int64_t rows : {0, 1, 2, 3, 44, 64, 127}) {
    for (const int world_size : {1, 2, 3, 8}) {
      std::int64_t next = 0;
      for (int rank = 0; rank < world_size; ++rank) {
        const RowShard shard = shard_rows(rows, rank, world_size);
        EXPECT_EQ(shard.begin, next) << rows << " rows, rank " << rank << " of " << world_size;
        EXPECT_GE(shard.size(), rows / world_size);
        EXPECT_LE(shard.size(), rows / world_size + 1);
        next = shard.end;
      }
      EXPECT_EQ(next, rows);
    }
  }
  EXPECT_EQ(shard_rows(44, 1, 2).begin, 22);
}

// A CUDA build must carry NCCL's group (a CUDA LibTorch whose NCCL went missing would quietly
// reduce through host memory); a CPU build has none. No GPU is needed to pick the library.
TEST(CollectiveLibrary, NcclCarriesCudaRanksWhereBuiltAndGlooEverythingElse) {
#ifdef VAE_CNN_CUDA_BUILD
  EXPECT_TRUE(nccl_built());
#else
  EXPECT_FALSE(nccl_built());
#endif
  EXPECT_EQ(collective_library_for(torch::Device(torch::kCPU)), CollectiveLibrary::kGloo);
  for (const char* gpu : {"cuda", "cuda:0", "cuda:3"}) {
    EXPECT_EQ(collective_library_for(torch::Device(gpu)),
              nccl_built() ? CollectiveLibrary::kNccl : CollectiveLibrary::kGloo)
        << gpu;
  }
  EXPECT_STREQ(to_string(CollectiveLibrary::kNccl), "NCCL");
  EXPECT_STREQ(to_string(CollectiveLibrary::kGloo), "Gloo");
}

TEST(DataParallelGroup, TwoRanksBroadcastFromTheFirstAndSumInOneCall) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << "built without Gloo";
  const int port = testing::free_loopback_port();
  auto rank_work = [port](int rank) {
    DataParallelGroup group(loopback_rank(rank, 2, port), milliseconds(20000));
    group.use_device(torch::Device(torch::kCPU));
    EXPECT_EQ(group.library(), CollectiveLibrary::kGloo);
    // Different shapes, different starting values per rank.
    std::vector<torch::Tensor> tensors{torch::full({2, 3}, 10.0f * (rank + 1)), torch::arange(4).to(torch::kFloat32) + rank};
    group.broadcast_from_first(tensors);
    std::vector<torch::Tensor> broadcast{tensors[0].clone(), tensors[1].clone()};
    std::vector<torch::Tensor> sums{torch::full({3}, 1.0f + rank), torch::full({1}, 0.5f)};
    group.sum_in_place(sums);
    return std::make_pair(broadcast, sums);
  };
  auto first = std::async(std::launch::async, rank_work, 0);
  auto second = std::async(std::launch::async, rank_work, 1);
  const auto [first_broadcast, first_sums] = first.get();
  const auto [second_broadcast, second_sums] = second.get();
  for (const auto* broadcast : {&first_broadcast, &second_broadcast}) {
    EXPECT_TRUE(torch::equal((*broadcast)[0], torch::full({2, 3}, 10.0f)));
    EXPECT_TRUE(torch::equal((*broadcast)[1], torch::arange(4).to(torch::kFloat32)));
  }
  for (const auto* sums : {&first_sums, &second_sums}) {
    EXPECT_TRUE(torch::equal((*sums)[0], torch::full({3}, 3.0f))) << (*sums)[0];
    EXPECT_TRUE(torch::equal((*sums)[1], torch::full({1}, 1.0f))) << (*sums)[1];
  }
}

// Validation sharded over two ranks (each its rows of every batch, with the batch's ε) gives the
// figures one process gives, on every rank.
TEST(DataParallelGroup, ShardedValidationGivesOneProcesssFigures) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << "built without Gloo";
  const Dataset all = load_split(testing::mnist_sample_dir(), Split::kTest);
  const Dataset digits = all.head(100);
  std::vector<ConvVae> models;
  for (int copy = 0; copy < 3; ++copy) {
    torch::manual_seed(5);
    models.emplace_back(ConvVaeOptions());
  }
  const EvalMetrics one = evaluate(models[2], digits, LossKind::kBce, 1.0, 37);
  const int port = testing::free_loopback_port();
  auto rank_work = [&](int rank) {
    DataParallelGroup group(loopback_rank(rank, 2, port), milliseconds(20000));
    return evaluate(models[rank], digits, LossKind::kBce, 1.0, 37, kValidationNoiseSeed, evaluation_ranks(&group));
  };
  auto first = std::async(std::launch::async, rank_work, 0);
  auto second = std::async(std::launch::async, rank_work, 1);
  for (const EvalMetrics& sharded : {first.get(), second.get()}) {
    EXPECT_EQ(sharded.images, 100);
    EXPECT_NEAR(sharded.loss, one.loss, 1e-4);
    EXPECT_NEAR(sharded.reconstruction, one.reconstruction, 1e-4);
    EXPECT_NEAR(sharded.kl, one.kl, 1e-5);
  }
  // Other ε moves the figure far more than that: the comparison above is about the ε, not blind to it.
  EXPECT_GT(std::abs(evaluate(models[2], digits, LossKind::kBce, 1.0, 37, kValidationNoiseSeed + 1).loss - one.loss),
            1e-3);
}

TEST(DataParallelGroup, UnreachableRendezvousFailsWithinItsTimeout) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << "built without Gloo";
  const int port = testing::free_loopback_port();
  const auto start = std::chrono::steady_clock::now();
  expect_throw_with<ProcessGroupError>([&] { DataParallelGroup lonely(loopback_rank(1, 2, port), milliseconds(2000)); },
                                       {"rank 1 of 2", "cannot join", "127.0.0.1:" + std::to_string(port), "2 s"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(DataParallelGroup, ARankThatLeavesMakesTheOtherFailNotHang) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << "built without Gloo";
  const int port = testing::free_loopback_port();
  auto leaver = std::async(std::launch::async, [&] {
    DataParallelGroup group(loopback_rank(1, 2, port), milliseconds(20000));
    std::vector<torch::Tensor> once{torch::ones({1})};
    group.sum_in_place(once);
  });  // leaves after one all-reduce
  DataParallelGroup group(loopback_rank(0, 2, port), milliseconds(5000));
  std::vector<torch::Tensor> once{torch::ones({1})};
  group.sum_in_place(once);
  leaver.get();
  const auto start = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> again{torch::ones({1})};
  expect_throw_with<ProcessGroupError>([&] { group.sum_in_place(again); }, {"rank 0 of 2", "all-reduce failed"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace vae_cnn
