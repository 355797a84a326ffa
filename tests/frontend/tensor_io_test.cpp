// .npy round trips through Tensor.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln_frontend_npy_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(NpyTest, RoundTripsEveryNumpyDtype) {
  for (DType d : {DType::Bool, DType::I8, DType::I16, DType::I32, DType::I64, DType::U8, DType::U32,
                  DType::F16, DType::F32, DType::F64}) {
    Tensor t = astype(Tensor({{0, 1, 2}, {3, 4, 5}}), d);
    std::filesystem::path path = dir_ / (std::string(ir::dtype_name(d)) + ".npy");
    save(path, t);
    Tensor back = load(path);
    EXPECT_EQ(back.type(), t.type()) << ir::dtype_name(d);
    EXPECT_EQ(back.data(), t.data()) << ir::dtype_name(d);
  }
}

TEST_F(NpyTest, SavesLazyTensors) {
  Tensor lazy = arange(6).reshape({2, 3}) * 2;
  save(dir_ / "lazy.npy", lazy);
  EXPECT_EQ(load(dir_ / "lazy.npy").to_vector<int>(), (std::vector<int>{0, 2, 4, 6, 8, 10}));
}

TEST_F(NpyTest, Bf16TravelsAsF32) {
  Tensor t = astype(Tensor({1.5f, -2.25f, 3.0f}), DType::BF16);
  save(dir_ / "bf16.npy", t);
  Tensor back = load(dir_ / "bf16.npy");
  EXPECT_EQ(back.dtype(), DType::F32);
  EXPECT_EQ(astype(back, DType::BF16).data(), t.data());
}

TEST_F(NpyTest, MissingFileIsAnError) {
  EXPECT_ERROR(load(dir_ / "missing.npy"), "[npy]");
}

}  // namespace
}  // namespace kiln
