#include "io/npy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ir/buffer_pool.h"
#include "ir/error.h"

namespace kiln::io {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(KILN_GOLDEN_DIR) / "npy";

std::filesystem::path temp_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("kiln_npy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bytes = std::as_bytes(std::span(chars));
  return {bytes.begin(), bytes.end()};
}

// The message of the kiln::Error `f` throws, or "" if it throws none.
template <class F>
std::string error_from(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string error_of(std::span<const std::byte> bytes) {
  return error_from([&] { parse_npy(bytes, "x.npy"); });
}

TEST(Npy, ReadsNumpyFloat32) {
  ir::HostArray a = load_npy(kFixtures / "f32_2x3.npy");
  EXPECT_EQ(a.type().str(), "f32[2,3]");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(a.get_f64(i), i / 4.0);
}

TEST(Npy, ReadsBigEndianAndFortranOrderAndVersion2) {
  ir::HostArray big = load_npy(kFixtures / "i32_big_endian.npy");
  EXPECT_EQ(big.type().str(), "i32[3]");
  EXPECT_EQ(big.get_i64(0), 1);
  EXPECT_EQ(big.get_i64(1), -2);
  EXPECT_EQ(big.get_i64(2), 300000);
  ir::HostArray fortran = load_npy(kFixtures / "f64_fortran.npy");
  EXPECT_EQ(fortran.type().str(), "f64[2,3]");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(fortran.get_f64(i), i);
  ir::HostArray v2 = load_npy(kFixtures / "f32_v2.npy");
  EXPECT_EQ(v2.get_f64(1), 8.0);
}

TEST(Npy, ReadsBoolScalarAndEmpty) {
  ir::HostArray b = load_npy(kFixtures / "bool_4.npy");
  EXPECT_EQ(b.type().str(), "bool[4]");
  EXPECT_EQ(b.get_i64(0), 1);
  EXPECT_EQ(b.get_i64(1), 0);
  ir::HostArray s = load_npy(kFixtures / "f16_scalar.npy");
  EXPECT_EQ(s.type().str(), "f16[]");
  EXPECT_EQ(s.get_f64(0), 1.5);
  EXPECT_EQ(load_npy(kFixtures / "u8_empty.npy").type().str(), "u8[0,3]");
}

TEST(Npy, RoundTripsEveryDType) {
  for (ir::DType dtype : ir::kAllDTypes) {
    ir::HostArray a(ir::TensorType{dtype, {2, 3}});
    for (int i = 0; i < 6; ++i)
      a.set_f64(i, i % 2);
    ir::HostArray back = parse_npy(serialize_npy(a), "mem");
    if (dtype == ir::DType::BF16) {
      EXPECT_EQ(back.dtype(), ir::DType::F32) << "bf16 travels as f32";
      for (int i = 0; i < 6; ++i)
        EXPECT_EQ(back.get_f64(i), a.get_f64(i));
    } else {
      EXPECT_EQ(back, a) << ir::dtype_name(dtype);
    }
  }
}

TEST(Npy, SavesAtomicallyAndLoadsBack) {
  auto path = temp_dir() / "saved.npy";
  ir::HostArray a(ir::TensorType{ir::DType::I64, {3}});
  a.set_i64(2, -7);
  save_npy(path, a);
  EXPECT_EQ(load_npy(path), a);
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path()))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  EXPECT_THROW(save_npy(temp_dir() / "missing_dir" / "x.npy", a), Error);
  std::filesystem::remove_all(path.parent_path());
}

TEST(Npy, RejectsBadInputWithOneClearError) {
  auto good = read_bytes(kFixtures / "f32_2x3.npy");
  EXPECT_NE(error_of(std::span(good).first(5)).find("[npy] x.npy: not a .npy file"),
            std::string::npos);
  EXPECT_NE(error_of(std::span(good).first(good.size() - 4)).find("data is truncated"),
            std::string::npos);
  auto longer = good;
  longer.push_back(std::byte{0});
  EXPECT_NE(error_of(longer).find("bytes after the data"), std::string::npos);
  auto bad_magic = good;
  bad_magic[1] = std::byte{'X'};
  EXPECT_NE(error_of(bad_magic).find("bad magic"), std::string::npos);
  auto complex = read_bytes(kFixtures / "complex_unsupported.npy");
  EXPECT_NE(error_of(complex).find("unsupported dtype '<c16'"), std::string::npos);
  try {
    load_npy(kFixtures / "does_not_exist.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

// A version 1 file with the header dict `dict` and `data` bytes after it.
std::vector<std::byte> npy_with_header(const std::string& dict, size_t data = 0) {
  std::string header = dict + "\n";
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  file += header + std::string(data, '\0');
  auto bytes = std::as_bytes(std::span(file));
  return {bytes.begin(), bytes.end()};
}

std::string load_error(const std::filesystem::path& path) {
  return error_from([&] { load_npy(path); });
}

TEST(Npy, SizesAreCheckedBeforeAllocatingAndNeverOverflow) {
  // 400 GB: more than memory, said with the right count (not "needs 0 bytes").
  std::string huge =
      error_of(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, "
                               "1000000), }"));
  EXPECT_NE(huge.find("[npy] x.npy: f32[100000,1000000] needs 400000000000 bytes, more than "
                      "this machine's memory"),
            std::string::npos)
      << huge;
  // Past 64 bits, in elements or in bytes.
  for (const char* shape : {"(1099511627776, 1099511627776)", "(2305843009213693952, 8)"}) {
    std::string e = error_of(npy_with_header(
        std::string("{'descr': '<f8', 'fortran_order': False, 'shape': ") + shape + ", }"));
    EXPECT_NE(e.find("has more bytes than a 64-bit size holds"), std::string::npos) << e;
  }
  // A zero dimension makes any shape empty: this one is a valid file of no data.
  ir::HostArray empty =
      parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                                "4294967296, 0), }"),
                "x.npy");
  EXPECT_EQ(empty.num_elements(), 0);
  EXPECT_EQ(empty.type().str(), "f32[4294967296,4294967296,0]");
}

TEST(Npy, ReadsOnlyRegularFilesAndNeverPastTheHeadersSize) {
  auto dir = temp_dir() / "special";
  std::filesystem::create_directories(dir / "folder.npy");
  ASSERT_EQ(::mkfifo((dir / "fifo.npy").c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", dir / "zero.npy");
  // Each is refused at once, naming the file: no blocking on the FIFO, no endless read.
  EXPECT_EQ(load_error(dir / "folder.npy"),
            "[npy] " + (dir / "folder.npy").string() + ": is a directory, not a regular file");
  EXPECT_EQ(load_error(dir / "fifo.npy"),
            "[npy] " + (dir / "fifo.npy").string() + ": is a FIFO, not a regular file");
  EXPECT_EQ(load_error("/dev/zero"), "[npy] /dev/zero: is a character device, not a regular file");
  EXPECT_EQ(load_error(dir / "zero.npy"),
            "[npy] " + (dir / "zero.npy").string() + ": is a character device, not a regular file");
  // A regular file the kernel will not read as bytes.
  EXPECT_EQ(load_error("/proc/self/mem").rfind("[npy] /proc/self/mem: ", 0), 0u);
  // A header announcing more data than the file has is refused from the file's size.
  auto path = dir / "short.npy";
  auto bytes =
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", 16);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  EXPECT_NE(load_error(path).find("data is truncated: f32[1000,1000] needs 4000000 bytes, the "
                                  "file has 16"),
            std::string::npos)
      << load_error(path);
  std::filesystem::remove_all(dir);
}

TEST(Npy, LargeFilesAreMappedNotCopied) {
  const auto path = temp_dir() / "large.npy";
  ir::HostArray values(ir::TensorType{ir::DType::F32, {512, 1024}});  // 2 MiB
  for (int64_t i = 0; i < values.num_elements(); ++i)
    values.set_f64(i, static_cast<double>(i % 1000) - 500.0);
  save_npy(path, values);
  ir::HostArray mapped = load_npy(path);
  EXPECT_TRUE(mapped.storage()->read_only()) << "the data was read into a copy";
  EXPECT_EQ(mapped, values);
  // A new result saved over the file (a rename) leaves the mapped array as it was.
  save_npy(path, ir::HostArray(values.type()));
  EXPECT_EQ(mapped, values);
  // Writing to the array copies it first: the file is never written through the mapping.
  ir::HostArray written = load_npy(path);
  written.set_f64(0, 42.0);
  EXPECT_FALSE(written.storage()->read_only());
  EXPECT_EQ(load_npy(path).get_f64(0), 0.0);
  // Bools are still checked, and small files are read (no mapping held).
  auto bools = ir::HostArray(ir::TensorType{ir::DType::Bool, {int64_t{2} << 20}});
  save_npy(path, bools);
  EXPECT_TRUE(load_npy(path).storage()->read_only());
  auto bytes = read_bytes(path);
  bytes.back() = std::byte{7};
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  EXPECT_NE(error_from([&] { load_npy(path); }).find("bool data holds a byte other than 0 or 1"),
            std::string::npos);
  save_npy(path, ir::HostArray(ir::TensorType{ir::DType::F32, {4}}));
  EXPECT_FALSE(load_npy(path).storage()->read_only());
  std::filesystem::remove(path);
}

TEST(Npy, NeverCrashesOnMutatedFiles) {
  auto good = read_bytes(kFixtures / "f64_fortran.npy");
  uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = good;
    int edits = 1 + next() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t at = (next() >> 33) % bytes.size();
      switch (next() % 3) {
        case 0:
          bytes[at] = static_cast<std::byte>(next() >> 56);
          break;
        case 1:
          bytes.erase(bytes.begin() + at);
          break;
        case 2:
          bytes.resize(at + 1);
          break;
      }
    }
    try {
      parse_npy(bytes, "fuzz.npy");
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace kiln::io
