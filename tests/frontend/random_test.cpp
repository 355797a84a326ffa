// kiln::random: keys and their derivation bit for bit (against the scalar Threefry the
// interpreter and every backend share), the global key's reproducibility, and each
// distribution's moments and a Kolmogorov-Smirnov bound at fixed keys. The bounds are
// deterministic: fixed keys give fixed samples; they are the 1% critical values, so a wrong
// distribution fails them while these draws pass.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include "frontend/random.h"
#include "ir/scalar_semantics.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

std::vector<double> sample(const Tensor& t) {
  return t.astype(DType::F64).to_vector<double>();
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s / static_cast<double>(v.size());
}

double variance(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v)
    s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

// The Kolmogorov-Smirnov statistic of `v` against the distribution function `cdf`.
double ks_statistic(std::vector<double> v, const std::function<double(double)>& cdf) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double d = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double f = cdf(v[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return d;
}

// The 1% critical value of the one-sample KS statistic for n samples.
double ks_bound(size_t n) {
  return 1.63 / std::sqrt(static_cast<double>(n));
}

constexpr int64_t kN = 20000;

TEST(Random, KeyAndSplitAreThreefryWords) {
  EXPECT_EQ(random::key(0x0000000500000007).to_vector<uint32_t>(), (std::vector<uint32_t>{5, 7}));
  const Tensor k = random::key(42);
  const std::vector<uint32_t> words = random::split(k, 3).to_vector<uint32_t>();
  ASSERT_EQ(words.size(), 6u);
  for (uint64_t i = 0; i < 6; ++i)
    EXPECT_EQ(words[i], ir::scalar::rng_bits_element(0, 42, i)) << i;
  EXPECT_EQ(random::split(k, 3).shape(), (Shape{3, 2}));
  const std::vector<uint32_t> folded = random::fold_in(k, 9).to_vector<uint32_t>();
  for (uint64_t i = 0; i < 2; ++i)
    EXPECT_EQ(folded[i], ir::scalar::rng_bits_element(0x6a09e667u, 42u ^ 9u, i));
  const std::vector<uint32_t> bits = random::bits({4}, k).to_vector<uint32_t>();
  for (uint64_t i = 0; i < 4; ++i)
    EXPECT_EQ(bits[i], ir::scalar::rng_bits_element(0, 42, i));
}

TEST(Random, TheGlobalKeyIsReproducibleAndAdvances) {
  random::seed(3);
  const std::vector<float> a = random::uniform({5}).to_vector<float>();
  const std::vector<float> b = random::uniform({5}).to_vector<float>();
  random::seed(3);
  EXPECT_EQ(random::uniform({5}).to_vector<float>(), a);
  EXPECT_NE(a, b);
  // The first call after seed(s) uses split(key(s))[1].
  const Tensor subkey = index(random::split(random::key(3)), 1);
  EXPECT_EQ(random::uniform({5}, DType::F32, subkey).to_vector<float>(), a);
}

TEST(Random, BadArgumentsNameTheFunction) {
  try {
    random::uniform({3}, DType::F32, Tensor({1, 2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "[frontend] uniform: expects a key of type u32[2], got i32[2]");
  }
  EXPECT_THROW(random::normal({3}, DType::I32), Error);
  EXPECT_THROW(random::randint(5, 5, {3}), Error);
  EXPECT_THROW(random::randint(0, 300, {3}, DType::I8), Error);
  EXPECT_THROW(random::split(random::key(1), 0), Error);
}

TEST(Random, UniformIsUniformOnItsInterval) {
  for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    const std::vector<double> u = sample(random::uniform({kN}, d, random::key(1)));
    EXPECT_NEAR(mean(u), 0.5, 0.01) << ir::dtype_name(d);
    EXPECT_NEAR(variance(u), 1.0 / 12, 0.005) << ir::dtype_name(d);
    EXPECT_GE(*std::min_element(u.begin(), u.end()), 0.0);
    EXPECT_LT(*std::max_element(u.begin(), u.end()), 1.0);
    // The values lie on a grid of 2^-m (m the mantissa bits): the grid's steps add at most
    // one step to the distance from the continuous distribution.
    const double step = d == DType::F16 ? 0x1p-10 : d == DType::BF16 ? 0x1p-7 : 0.0;
    EXPECT_LT(ks_statistic(u, [](double x) { return std::clamp(x, 0.0, 1.0); }),
              ks_bound(u.size()) + step)
        << ir::dtype_name(d);
  }
  const std::vector<double> v =
      sample(random::uniform(-3.0, 5.0, {kN}, DType::F32, random::key(2)));
  EXPECT_LT(ks_statistic(v, [](double x) { return std::clamp((x + 3) / 8, 0.0, 1.0); }),
            ks_bound(v.size()));
}

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

TEST(Random, NormalHasTheStandardMomentsAndDistribution) {
  for (DType d : {DType::F32, DType::F64}) {
    const std::vector<double> z = sample(random::normal({kN}, d, 0.0, 1.0, random::key(4)));
    EXPECT_NEAR(mean(z), 0.0, 0.03);
    EXPECT_NEAR(variance(z), 1.0, 0.03);
    EXPECT_LT(ks_statistic(z, normal_cdf), ks_bound(z.size())) << ir::dtype_name(d);
  }
  const std::vector<double> s = sample(random::normal({kN}, DType::F32, 2.0, 3.0, random::key(5)));
  EXPECT_LT(ks_statistic(s, [](double x) { return normal_cdf((x - 2) / 3); }), ks_bound(s.size()));
}

TEST(Random, TruncatedNormalStaysInItsIntervalWithItsDistribution) {
  const std::vector<double> t =
      sample(random::truncated_normal(-1.0, 2.0, {kN}, DType::F32, random::key(12)));
  EXPECT_GE(*std::min_element(t.begin(), t.end()), -1.0);
  EXPECT_LE(*std::max_element(t.begin(), t.end()), 2.0);
  const double a = normal_cdf(-1), b = normal_cdf(2);
  auto cdf = [&](double x) { return std::clamp((normal_cdf(x) - a) / (b - a), 0.0, 1.0); };
  EXPECT_LT(ks_statistic(t, cdf), ks_bound(t.size()));
}

TEST(Random, GumbelAndLaplaceFollowTheirDistributions) {
  const std::vector<double> g = sample(random::gumbel({kN}, DType::F32, random::key(6)));
  EXPECT_NEAR(mean(g), 0.5772156649, 0.03);  // the Euler-Mascheroni constant
  EXPECT_LT(ks_statistic(g, [](double x) { return std::exp(-std::exp(-x)); }), ks_bound(g.size()));
  const std::vector<double> l = sample(random::laplace({kN}, DType::F32, 0.0, 1.0, random::key(7)));
  EXPECT_NEAR(variance(l), 2.0, 0.08);
  auto laplace_cdf = [](double x) { return x < 0 ? 0.5 * std::exp(x) : 1 - 0.5 * std::exp(-x); };
  EXPECT_LT(ks_statistic(l, laplace_cdf), ks_bound(l.size()));
}

TEST(Random, RandintBernoulliAndCategoricalFrequencies) {
  const std::vector<int32_t> r =
      random::randint(-2, 3, {kN}, DType::I32, random::key(8)).to_vector<int32_t>();
  std::vector<int> counts(5, 0);
  for (int32_t v : r) {
    ASSERT_GE(v, -2);
    ASSERT_LT(v, 3);
    ++counts[static_cast<size_t>(v + 2)];
  }
  for (int c : counts)
    EXPECT_NEAR(c, kN / 5, 4 * std::sqrt(kN * 0.2 * 0.8));

  const std::vector<double> b = sample(random::bernoulli(0.3, {kN}, random::key(9)));
  EXPECT_NEAR(mean(b), 0.3, 4 * std::sqrt(0.3 * 0.7 / kN));

  // Categories with probabilities 0.1, 0.2, 0.7, along axis 0 of a [3, 1] logits tensor.
  const Tensor logits = log(Tensor({{0.1f}, {0.2f}, {0.7f}}));
  const Tensor draws = random::categorical(logits, 0, kN, random::key(10));
  EXPECT_EQ(draws.shape(), (Shape{1, kN}));
  std::vector<int> seen(3, 0);
  for (int32_t v : draws.to_vector<int32_t>())
    ++seen[static_cast<size_t>(v)];
  const double p[] = {0.1, 0.2, 0.7};
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(seen[static_cast<size_t>(i)], kN * p[i], 4 * std::sqrt(kN * p[i] * (1 - p[i])));
  EXPECT_EQ(
      random::categorical(Tensor({{0.0f, 0.0f}, {0.0f, 0.0f}}), -1, std::nullopt, random::key(11))
          .shape(),
      (Shape{2}));
}

}  // namespace
}  // namespace kiln
