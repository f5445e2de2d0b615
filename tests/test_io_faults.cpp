// The library's side of the faults: atomic writes under a file-size limit, the folder lock, and
// the memory check's arithmetic.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/folder_lock.hpp"
#include "vae_cnn/serialize/pickle_framing.hpp"
#include "vae_cnn/io/system_memory.hpp"
#include "vae_cnn/train/memory_budget.hpp"

namespace vae_cnn {
namespace {

using testing::ScratchDir;
using testing::slurp;

// In a child with a file-size limit of `limit_bytes`, writes `size` bytes to `path` atomically;
// exits 0 on success, 3 on WriteError (whose message goes to `message_path`), 4 otherwise.
int write_under_file_size_limit(const std::string& path, std::size_t size, rlim_t limit_bytes,
                                const std::string& message_path) {
  const pid_t child = ::fork();
  if (child == 0) {
    rlimit limit{limit_bytes, limit_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file_atomically(path, std::string(size, 'x'));
      ::_exit(0);
    } catch (const WriteError& error) {
      try {
        rlimit none{RLIM_INFINITY, RLIM_INFINITY};
        ::setrlimit(RLIMIT_FSIZE, &none);  // fails for an unprivileged child: the message is short
        write_file_atomically(message_path, error.what());
      } catch (...) {
      }
      ::_exit(3);
    } catch (...) {
      ::_exit(4);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(AtomicWrite, FileSizeLimitFailsCleanlyAndKeepsTheOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("checkpoint.pt");
  write_file_atomically(path, std::string("previous checkpoint"));
  // Not killed by SIGXFSZ: a WriteError naming the file and the cause.
  EXPECT_EQ(write_under_file_size_limit(path, 1 << 20, 64 * 1024, dir.file("message")), 3);
  const std::string message = slurp(dir.file("message"));
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_EQ(slurp(path), "previous checkpoint");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  // Under the limit the same write goes through.
  EXPECT_EQ(write_under_file_size_limit(path, 1000, 64 * 1024, dir.file("message")), 0);
  EXPECT_EQ(slurp(path), std::string(1000, 'x'));
}

// The temporary file is created, never opened: a link planted under its name (here this process's
// own, the name a write of `path` will use) is replaced, and the file it names keeps its bytes.
TEST(AtomicWrite, ALinkPlantedUnderTheTemporaryNameIsNotWrittenThrough) {
  ScratchDir dir;
  const std::string victim = dir.file("victim");
  write_file_atomically(victim, std::string("precious"));
  const std::string path = dir.file("metrics.csv");
  std::filesystem::create_symlink(victim, path + ".tmp-" + std::to_string(::getpid()));
  write_file_atomically(path, std::string("epoch\n"));
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_EQ(slurp(path), "epoch\n");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
}

TEST(AtomicWrite, AReplacedFileKeepsItsPermissions) {
  ScratchDir dir;
  const std::string path = dir.file("checkpoint.pt");
  write_file_atomically(path, std::string("first"));
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  write_file_atomically(path, std::string("second"));
  EXPECT_EQ(std::filesystem::status(path).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(slurp(path), "second");
}

// A killed run's temporary file goes; a live writer's, another file's and a stranger's stay.
TEST(AtomicWrite, OnlyTheTemporaryFilesOfWritersThatNoLongerRunAreRemoved) {
  ScratchDir dir;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // a pid that no process has now
  const std::string dead = std::to_string(child), alive = std::to_string(::getpid());
  const std::vector<std::string> kept{"x.pt.tmp-" + alive, "y.pt.tmp-" + dead, "x.pt.tmp-1x", "x.pt"};
  std::ofstream(dir.file("x.pt.tmp-" + dead)) << "bytes";
  for (const std::string& name : kept) std::ofstream(dir.file(name)) << "bytes";
  EXPECT_EQ(remove_abandoned_temporary_files(dir.file("x.pt")), 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.pt.tmp-" + dead)));
  for (const std::string& name : kept) EXPECT_TRUE(std::filesystem::exists(dir.file(name))) << name;
}

TEST(FolderLock, APlantedLinkIsRefusedAndWhatItNamesKept) {
  ScratchDir dir;
  const std::string victim = dir.file("victim");
  write_file_atomically(victim, std::string("precious"));
  std::filesystem::create_symlink(victim, dir.file(".vae_cnn.lock"));
  testing::expect_throw_with<WriteError>([&] { FolderLock lock(dir.path().string(), "test"); },
                                         {dir.file(".vae_cnn.lock"), "is a symbolic link"});
  EXPECT_EQ(slurp(victim), "precious");
}

TEST(FolderLock, SecondHolderIsRefusedNamingTheFirstUntilItLetsGo) {
  ScratchDir dir;
  {
    const FolderLock first(dir.path().string(), describe_this_process("vae_cnn train into w"));
    EXPECT_NE(slurp(first.path()).find("pid " + std::to_string(::getpid()) + " on "), std::string::npos);
    testing::expect_throw_with<FolderBusyError>(
        [&] { FolderLock second(dir.path().string(), "second"); },
        {dir.path().string(), "another vae_cnn run", "pid " + std::to_string(::getpid()), "vae_cnn train into w"});
  }
  // Released with the first holder; the file it leaves behind blocks nobody.
  const FolderLock again(dir.path().string(), "again");
  EXPECT_EQ(slurp(again.path()), "again\n");
}

TEST(FolderLock, UncreatableLockFileIsAWriteError) {
  ScratchDir dir;
  testing::expect_throw_with<WriteError>([&] { FolderLock lock(dir.file("no_such_folder"), "x"); },
                                         {"no_such_folder/.vae_cnn.lock", "cannot create"});
}

std::optional<std::string> framing_fault(const std::string& pickle) {
  return pickle_framing_fault(pickle.data(), pickle.size());
}

TEST(PickleFraming, AcceptsWhatPicklersWriteAndNamesTheFirstFault) {
  using namespace std::string_literals;
  // {"ab": 1} with protocol 2, as Python writes it; and protocol 4's short forms.
  EXPECT_EQ(framing_fault("\x80\x02}q\x00X\x02\x00\x00\x00" "abq\x01K\x01s."s), std::nullopt);
  EXPECT_EQ(framing_fault("\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8c\x02" "ab\x94K\x01\x86\x94."s), std::nullopt);
  EXPECT_EQ(framing_fault("ccollections\nOrderedDict\n)R."s), std::nullopt);
  // A string announcing 4 GiB - 1 in a 12-byte pickle: refused before anyone allocates it.
  const auto huge = framing_fault("\x80\x02X\xff\xff\xff\xff" "ab."s);
  ASSERT_TRUE(huge.has_value());
  EXPECT_NE(huge->find("announces 4294967295 bytes but 3 remain at byte 2"), std::string::npos) << *huge;
  EXPECT_NE(framing_fault("\x80\x02\xffN."s).value_or("").find("unknown opcode 0xff at byte 2"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02N"s).value_or("").find("no STOP"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02J\x01\x00"s).value_or("").find("past the end"), std::string::npos);
  EXPECT_NE(framing_fault("ccollections\nOrderedDict"s).value_or("").find("unterminated"), std::string::npos);
  EXPECT_NE(framing_fault("N.N"s).value_or("").find("after STOP"), std::string::npos);
  EXPECT_NE(framing_fault(""s).value_or("").find("no STOP"), std::string::npos);
  // A memo index LibTorch would grow its memo table to (4 billion entries) before storing anything.
  EXPECT_NE(framing_fault("\x80\x02N" "r\x00\x00\x00\xf0" "."s).value_or("").find("memo index 4026531840 beyond"),
            std::string::npos);
  EXPECT_EQ(framing_fault("\x80\x02N" "r\x03\x00\x00\x00" "."s), std::nullopt);
  // Opcodes that take more than the stack holds: LibTorch's unpickler read past its stack's end.
  EXPECT_NE(framing_fault("\x80\x02" "a."s).value_or("").find("opcode 0x61 takes 2 items, and 0 are there at byte 2"),
            std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02N" "u."s).value_or("").find("down to a mark, and there is none"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02" "(N" "u."s).value_or("").find("works on an item"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02" "(."s).value_or("").find("takes 1 items, and 0 are there"), std::string::npos);
  EXPECT_EQ(framing_fault("\x80\x02" "]q\x00(K\x01K\x02e."s), std::nullopt);  // [1, 2] with APPENDS
}

TEST(MemoryBudget, RefusesOnlyWhatCannotFitAndSaysWhatWould) {
  const std::uint64_t gib = std::uint64_t{1} << 30;
  EXPECT_NO_THROW(check_training_fits(128, 134165, 2, gib));
  EXPECT_NO_THROW(check_training_fits(1000000, 134165, 2, std::nullopt));
  testing::expect_throw_with<ResourceError>([&] { check_training_fits(60000, 134165, 2, 4 * gib); },
                                            {"batches of 60000 images", "4.00 GiB", "--batch-size "});
  // The advice is a batch that passes the same check.
  try {
    check_training_fits(60000, 134165, 2, 4 * gib);
  } catch (const ResourceError& error) {
    const std::string text = error.what();
    const auto at = text.find("--batch-size ") + 13;
    const std::int64_t advised = std::stoll(text.substr(at));
    EXPECT_GT(advised, 1000);
    EXPECT_NO_THROW(check_training_fits(advised, 134165, 2, 4 * gib));
    EXPECT_THROW(check_training_fits(advised + 1, 134165, 2, 4 * gib), ResourceError);
  }
  // Images of 256×256 hold 84 times MNIST's pixels, and their feature maps as many times its values:
  // a batch that fits at 28×28 does not.
  EXPECT_NO_THROW(check_training_fits(1024, 134165, 2, gib));
  testing::expect_throw_with<ResourceError>([&] { check_training_fits(1024, 134165, 2, gib, 256 * 256); },
                                            {"batches of 1024 images", "--batch-size "});
  // Parameters alone too many: the latent size is the thing to change.
  testing::expect_throw_with<ResourceError>([&] { check_training_fits(1, 400000000, 4096, gib); },
                                            {"latent size 4096", "--latent-dim"});
}

TEST(SystemMemory, AddressSpaceLimitBoundsWhatIsAvailable) {
  const auto unlimited = available_memory_bytes();
  ASSERT_TRUE(unlimited.has_value());
  EXPECT_GT(*unlimited, std::uint64_t{64} << 20);
  const std::uint64_t headroom = std::uint64_t{64} << 20;
  const pid_t child = ::fork();
  if (child == 0) {
    std::uint64_t mapped_kib = 0;
    std::istringstream status(slurp("/proc/self/status"));
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmSize:", 0) == 0) mapped_kib = std::stoull(line.substr(7));
    }
    rlimit limit{};
    ::getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = static_cast<rlim_t>(mapped_kib * 1024 + headroom);
    ::setrlimit(RLIMIT_AS, &limit);
    const auto left = available_memory_bytes();
    ::_exit(mapped_kib > 0 && left && *left <= headroom && *left >= headroom / 2 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace vae_cnn
