// Host memory in and out of tensors: zero-copy views, caller-owned buffers with a release
// callback, and conversions from and to std::vector.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

struct AlignedFloats {
  explicit AlignedFloats(size_t n)
      : values(static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64))),
        count(n) {
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<float>(i) + 0.5f;
  }
  ~AlignedFloats() { std::free(values); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* values;
  size_t count;
};

ir::TensorType f32(Shape shape) {
  return ir::TensorType{DType::F32, std::move(shape)};
}

TEST(HostMemory, AlignedBufferIsUsedInPlaceAndReleasedWithTheLastTensor) {
  AlignedFloats buffer(16);
  int releases = 0;
  {
    Tensor t = Tensor::from_buffer(buffer.values, f32({4, 4}), [&] { ++releases; });
    std::span<const float> view = t.data<float>();
    EXPECT_EQ(view.data(), buffer.values) << "an aligned buffer is not copied";
    EXPECT_EQ(view.size(), 16u);
    Tensor doubled = t * 2.0f;
    EXPECT_EQ(doubled.to_vector<float>()[3], 7.0f);
    EXPECT_EQ(releases, 0) << "released while a tensor still uses it";
  }
  EXPECT_EQ(releases, 1);
}

TEST(HostMemory, UnalignedBufferIsCopiedAndReleasedAtOnce) {
  AlignedFloats buffer(17);
  int releases = 0;
  Tensor t = Tensor::from_buffer(buffer.values + 1, f32({16}), [&] { ++releases; });
  EXPECT_EQ(releases, 1);
  EXPECT_NE(t.data<float>().data(), buffer.values + 1);
  buffer.values[1] = -1.0f;  // the tensor holds its own copy
  EXPECT_EQ(t.to_vector<float>()[0], 1.5f);
}

TEST(HostMemory, AssignNeverWritesTheCallersBuffer) {
  AlignedFloats buffer(4);
  Tensor weights = Tensor::from_buffer(buffer.values, f32({4}));
  weights.assign(weights + 1.0f);
  expect_values(weights, {1.5, 2.5, 3.5, 4.5});
  EXPECT_EQ(buffer.values[0], 0.5f) << "kiln wrote the caller's read-only memory";
}

TEST(HostMemory, CompiledCodeReadsTheBufferInPlace) {
  AlignedFloats buffer(1024);
  Tensor x = Tensor::from_buffer(buffer.values, f32({1024}));
  auto f = compile([](Tensor a) { return sum(a * a); });
  double expected = 0;
  for (size_t i = 0; i < buffer.count; ++i)
    expected += static_cast<double>(buffer.values[i]) * buffer.values[i];
  EXPECT_NEAR(f({x})[0].item<double>(), expected, expected * 1e-6);
}

TEST(HostMemory, ViewsAreTypedAndEvaluate) {
  Tensor x = Tensor({1, 2, 3}) * 2;  // lazy until viewed
  std::span<const int32_t> view = x.data<int32_t>();
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[2], 6);
  try {
    (void)x.data<float>();
    FAIL() << "a view of the wrong element type was allowed";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "[frontend] data: the tensor is i32[3], not f32");
  }
}

TEST(HostMemory, NullBufferIsRefusedUnlessEmpty) {
  EXPECT_THROW((void)Tensor::from_buffer(nullptr, f32({2})), std::exception);
  Tensor empty = Tensor::from_buffer(nullptr, f32({0, 3}));
  EXPECT_EQ(empty.size(), 0);
}

TEST(HostMemory, VectorConversionsKeepEveryValue) {
  std::vector<float> values(100'003);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) * 0.25f - 7.0f;
  Tensor t(values);
  EXPECT_EQ(t.to_vector<float>(), values);
  EXPECT_EQ(Tensor(std::vector<int64_t>{-1, 2}).to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(Tensor(std::vector<bool>{true, false, true}).to_vector<bool>(),
            (std::vector<bool>{true, false, true}));
  // Converting to another element type still goes value by value.
  EXPECT_EQ(Tensor(std::vector<float>{1.5f, -2.5f}).to_vector<int32_t>(),
            (std::vector<int32_t>{1, -2}));
}

}  // namespace
}  // namespace kiln
