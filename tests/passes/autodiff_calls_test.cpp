// Autodiff over modules: plain calls differentiate as if inlined, a custom vjp is what the
// backward pass runs (even when it is not the derivative), checkpointed calls recompute through
// a generated "<f>_vjp", higher orders go through both, and every result module verifies and
// survives print/parse. The module interpreter, in f64, is the oracle.

#include <string>
#include <string_view>

#include "ir/error.h"
#include "passes/inline.h"
#include "tests/passes/autodiff_test_util.h"

namespace kiln::passes {
namespace {

using ir::HostArray;
using testing::close;
using testing::dot;
using testing::float_results;
using testing::moved;
using testing::picked_params;
using testing::random_like;
using testing::random_point;

ir::Module parse(std::string_view text) {
  ir::Module m = ir::parse_module(text, "calls.kir");
  ir::verify(m);
  return m;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

int count(const std::string& text, std::string_view what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

void expect_round_trip(const ir::Module& m) {
  const std::string text = ir::print(m);
  ASSERT_NO_THROW(ir::verify(m)) << text;
  ir::Module back = ir::parse_module(text, "printed.kir");
  ASSERT_NO_THROW(ir::verify(back)) << text;
  EXPECT_EQ(ir::print(back), text);
}

std::vector<HostArray> run(const ir::Module& m, const std::vector<HostArray>& args) {
  return ir::interpret(m, m.functions.at(0), args);
}

// (f(x + h t) - f(x - h t)) / 2h for each float result of f, run through the module.
std::vector<HostArray> fd_jvp(const ir::Module& m, const ir::Function& f,
                              const std::vector<HostArray>& args, const std::vector<int>& wrt,
                              const std::vector<HostArray>& t, double h = 1e-6) {
  auto plus = ir::interpret(m, f, moved(args, wrt, t, h));
  auto minus = ir::interpret(m, f, moved(args, wrt, t, -h));
  std::vector<HostArray> out;
  for (int r : float_results(f)) {
    HostArray d(plus[r].type());
    for (int64_t i = 0; i < d.num_elements(); ++i)
      d.set_f64(i, (plus[r].get_f64(i) - minus[r].get_f64(i)) / (2 * h));
    out.push_back(std::move(d));
  }
  return out;
}

// The finite difference of <c, f> along element i of picked parameter k.
double fd_cotangent(const ir::Module& m, const ir::Function& f, const std::vector<HostArray>& args,
                    const std::vector<int>& wrt, const std::vector<HostArray>& c, size_t k,
                    int64_t i) {
  std::vector<HostArray> e;
  for (int j : wrt)
    e.push_back(HostArray(f.type(f.params()[j])));
  e[k].set_f64(i, 1.0);
  auto d = fd_jvp(m, f, args, wrt, e);
  double sum = 0;
  for (size_t r = 0; r < d.size(); ++r)
    sum += dot(c[r], d[r]);
  return sum;
}

// vjp(m, f) verifies and round-trips, keeps f's results, and its cotangents match finite
// differences of <c, f>. Returns it for higher orders.
ir::Module check_vjp(const ir::Module& m, const ir::Function& f, const std::vector<HostArray>& args,
                     std::mt19937_64& rng, std::vector<int> wrt_in = {}) {
  SCOPED_TRACE("vjp of @" + f.name() + " in\n" + ir::print(m));
  ir::Module v = vjp(m, f, wrt_in);
  expect_round_trip(v);
  const std::vector<int> wrt = picked_params(f, wrt_in);
  std::vector<HostArray> c, vargs = args;
  for (int r : float_results(f))
    c.push_back(random_like(f.type(f.results()[r]), rng));
  vargs.insert(vargs.end(), c.begin(), c.end());
  auto got = run(v, vargs);
  auto primal = ir::interpret(m, f, args);
  EXPECT_EQ(got.size(), primal.size() + wrt.size());
  if (got.size() != primal.size() + wrt.size()) return v;
  for (size_t r = 0; r < primal.size(); ++r)
    EXPECT_EQ(got[r], primal[r]) << "primal result " << r;
  for (size_t k = 0; k < wrt.size(); ++k)
    for (int64_t i = 0; i < got[primal.size() + k].num_elements(); ++i) {
      const double want = fd_cotangent(m, f, args, wrt, c, k, i);
      EXPECT_TRUE(close(got[primal.size() + k].get_f64(i), want))
          << "cotangent of parameter " << wrt[k] << " element " << i << ": got "
          << got[primal.size() + k].get_f64(i) << ", finite differences " << want << "\n"
          << ir::print(v);
    }
  return v;
}

// grad(m, f) verifies and round-trips and matches finite differences of f; value_and_grad
// agrees with it and with f.
ir::Module check_grad(const ir::Module& m, const ir::Function& f,
                      const std::vector<HostArray>& args, std::vector<int> wrt_in = {}) {
  SCOPED_TRACE("grad of @" + f.name() + " in\n" + ir::print(m));
  ir::Module g = grad(m, f, wrt_in);
  expect_round_trip(g);
  ir::Module vg = value_and_grad(m, f, wrt_in);
  expect_round_trip(vg);
  const std::vector<int> wrt = picked_params(f, wrt_in);
  auto got = run(g, args);
  auto both = run(vg, args);
  EXPECT_EQ(got.size(), wrt.size());
  EXPECT_EQ(both.size(), wrt.size() + 1);
  if (got.size() != wrt.size() || both.size() != wrt.size() + 1) return g;
  EXPECT_EQ(both[0], ir::interpret(m, f, args)[0]);
  HostArray one(f.type(f.results()[0]));
  one.set_f64(0, 1.0);
  for (size_t k = 0; k < wrt.size(); ++k) {
    EXPECT_EQ(both[k + 1], got[k]);
    for (int64_t i = 0; i < got[k].num_elements(); ++i) {
      const double want = fd_cotangent(m, f, args, wrt, {one}, k, i);
      EXPECT_TRUE(close(got[k].get_f64(i), want))
          << "gradient of parameter " << wrt[k] << " element " << i << ": got " << got[k].get_f64(i)
          << ", finite differences " << want << "\n"
          << ir::print(g);
    }
  }
  return g;
}

void expect_same_values(const std::vector<HostArray>& got, const std::vector<HostArray>& want,
                        double rtol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k)
    testing::expect_close(got[k], want[k], "result " + std::to_string(k), rtol);
}

const char* const kLayers = R"(func @loss(%x: f64[3], %w: f64[3]) -> f64[] {
  %0 = call @layer(%x, %w) : f64[3]
  %1 = call @layer(%0, %w) : f64[3]
  %2 = mul %1, %1 : f64[3]
  %3 = reduce_sum %2 {axes=[0]} : f64[]
  return %3
}

func @layer(%x: f64[3], %w: f64[3]) -> f64[3] {
  %0 = mul %x, %w : f64[3]
  %1 = sin %0 : f64[3]
  %2 = call @shift(%1) : f64[3]
  return %2
}

func @shift(%x: f64[3]) -> f64[3] {
  %0 = constant {value=0.25} : f64[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f64[3]
  %2 = add %x, %1 : f64[3]
  return %2
}
)";

std::string checkpointed_layers() {
  return replace_all(kLayers, "call @layer(%x, %w) :", "call @layer(%x, %w) {checkpoint=1} :");
}

TEST(AutodiffCalls, PlainCallsDifferentiateAsInlined) {
  ir::Module m = parse(kLayers);
  const ir::Function& f = m.functions[0];
  std::mt19937_64 rng(1);
  auto args = random_point(f, rng);
  ir::Module g = check_grad(m, f, args);
  ASSERT_EQ(g.functions.size(), 1u);  // everything inlined
  EXPECT_EQ(g.functions[0].name(), "loss_grad");
  expect_same_values(run(g, args), ir::interpret(grad(inline_calls(m, f)), args));
  check_vjp(m, f, args, rng);
  std::vector<int> only_w{1};
  check_grad(m, f, args, only_w);
}

TEST(AutodiffCalls, CallFreeModuleMatchesFunctionLevel) {
  ir::Module m = parse(R"(func @sq(%x: f64[8]) -> f64[] {
  %0 = mul %x, %x : f64[8]
  %1 = reduce_sum %0 {axes=[0]} : f64[]
  return %1
})");
  const ir::Function& f = m.functions[0];
  EXPECT_EQ(ir::print(grad(m, f).functions.at(0)), ir::print(grad(f)));
  EXPECT_EQ(ir::print(vjp(m, f).functions.at(0)), ir::print(vjp(f)));
  EXPECT_EQ(ir::print(jvp(m, f).functions.at(0)), ir::print(jvp(f)));
  EXPECT_EQ(ir::print(value_and_grad(m, f).functions.at(0)), ir::print(value_and_grad(f)));
}

TEST(AutodiffCalls, JvpInlinesPlainAndCheckpointedCalls) {
  for (const std::string& text : {std::string(kLayers), checkpointed_layers()}) {
    ir::Module m = parse(text);
    const ir::Function& f = m.functions[0];
    ir::Module j = jvp(m, f);
    expect_round_trip(j);
    ASSERT_EQ(j.functions.size(), 1u);
    EXPECT_EQ(ir::print(j.functions[0]), ir::print(jvp(inline_calls(m, f))));
  }
}

const char* const kCube = R"(func @loss(%x: f64[3]) -> f64[] {
  %0 = call @cube(%x) {vjp="cube_bwd"} : f64[3]
  %1 = sin %0 : f64[3]
  %2 = reduce_sum %1 {axes=[0]} : f64[]
  return %2
}

func @cube(%x: f64[3]) -> f64[3] {
  %0 = mul %x, %x : f64[3]
  %1 = mul %0, %x : f64[3]
  return %1
}

func @cube_bwd(%x: f64[3], %c: f64[3]) -> f64[3] {
  %0 = mul %x, %x : f64[3]
  %1 = constant {value=3.0} : f64[]
  %2 = broadcast %1 {shape=[3], dims=[]} : f64[3]
  %3 = mul %0, %2 : f64[3]
  %4 = mul %3, %c : f64[3]
  return %4
}
)";

TEST(AutodiffCalls, CustomVjpThatIsTheDerivative) {
  ir::Module m = parse(kCube);
  ir::Module plain = parse(replace_all(kCube, " {vjp=\"cube_bwd\"}", ""));
  std::mt19937_64 rng(2);
  auto args = random_point(m.functions[0], rng);
  ir::Module g = check_grad(m, m.functions[0], args);
  const std::string text = ir::print(g);
  EXPECT_NE(text.find("call @cube(%x) {vjp=\"cube_bwd\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("call @cube_bwd("), std::string::npos) << text;
  expect_same_values(run(g, args), run(grad(plain, plain.functions[0]), args));
  check_vjp(m, m.functions[0], args, rng);
}

const char* const kClipped = R"(func @loss(%x: f64[3]) -> f64[] {
  %0 = call @sq(%x) {vjp="sq_clip"} : f64[3]
  %1 = constant {value=3.0} : f64[]
  %2 = broadcast %1 {shape=[3], dims=[]} : f64[3]
  %3 = mul %0, %2 : f64[3]
  %4 = reduce_sum %3 {axes=[0]} : f64[]
  return %4
}

func @sq(%x: f64[3]) -> f64[3] {
  %0 = mul %x, %x : f64[3]
  return %0
}

// Gradient clipping: the incoming cotangent clamped to [-1, 1], times the true 2x.
func @sq_clip(%x: f64[3], %c: f64[3]) -> f64[3] {
  %0 = constant {value=1.0} : f64[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f64[3]
  %2 = neg %1 : f64[3]
  %3 = min %c, %1 : f64[3]
  %4 = max %3, %2 : f64[3]
  %5 = add %x, %x : f64[3]
  %6 = mul %4, %5 : f64[3]
  return %6
}

func @sq_seven(%x: f64[3], %c: f64[3]) -> f64[3] {
  %0 = constant {value=7.0} : f64[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f64[3]
  return %1
}
)";

TEST(AutodiffCalls, CustomVjpThatIsNotTheDerivativeIsWhatGradReturns) {
  std::mt19937_64 rng(3);
  {
    ir::Module m = parse(kClipped);
    auto args = random_point(m.functions[0], rng);
    ir::Module g = grad(m, m.functions[0]);
    expect_round_trip(g);
    auto got = run(g, args);
    ASSERT_EQ(got.size(), 1u);
    for (int64_t i = 0; i < 3; ++i)  // the true gradient would be 6x
      EXPECT_EQ(got[0].get_f64(i), 2 * args[0].get_f64(i)) << i;
  }
  {
    ir::Module m = parse(replace_all(kClipped, "vjp=\"sq_clip\"", "vjp=\"sq_seven\""));
    auto args = random_point(m.functions[0], rng);
    ir::Module g = grad(m, m.functions[0]);
    expect_round_trip(g);
    auto got = run(g, args);
    ASSERT_EQ(got.size(), 1u);
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_EQ(got[0].get_f64(i), 7.0) << i;
  }
}

const char* const kPair = R"(func @both(%x: f64[3], %n: i32[]) -> f64[] {
  %0 = call @pair(%x, %n) {vjp="pair_bwd"} : f64[3]
  %1 = call @pair(%x, %n) {result=1, vjp="pair_bwd"} : f64[]
  %2 = reduce_sum %0 {axes=[0]} : f64[]
  %3 = mul %2, %1 : f64[]
  return %3
}

func @first(%x: f64[3], %n: i32[]) -> f64[] {
  %0 = call @pair(%x, %n) {vjp="pair_bwd"} : f64[3]
  %1 = reduce_sum %0 {axes=[0]} : f64[]
  return %1
}

func @second(%x: f64[3], %n: i32[]) -> f64[] {
  %0 = call @pair(%x, %n) {result=1, vjp="pair_bwd"} : f64[]
  %1 = call @pair(%x, %n) {result=2, vjp="pair_bwd"} : i32[]
  %2 = convert %1 : f64[]
  %3 = mul %0, %2 : f64[]
  return %3
}

func @pair(%x: f64[3], %n: i32[]) -> (f64[3], f64[], i32[]) {
  %0 = sin %x : f64[3]
  %1 = mul %x, %x : f64[3]
  %2 = reduce_sum %1 {axes=[0]} : f64[]
  %3 = convert %n : f64[]
  %4 = mul %2, %3 : f64[]
  return %0, %4, %n
}

// The true derivative: cos(x) c0 + 2 n x c1.
func @pair_bwd(%x: f64[3], %n: i32[], %c0: f64[3], %c1: f64[], %c2: i32[]) -> (f64[3], i32[]) {
  %0 = cos %x : f64[3]
  %1 = mul %0, %c0 : f64[3]
  %2 = convert %n : f64[]
  %3 = mul %c1, %2 : f64[]
  %4 = broadcast %3 {shape=[3], dims=[]} : f64[3]
  %5 = add %x, %x : f64[3]
  %6 = mul %5, %4 : f64[3]
  %7 = add %1, %6 : f64[3]
  return %7, %c2
}

// Not linear in the cotangents: one call with all of them is not a sum of calls with one each.
func @pair_product(%x: f64[3], %n: i32[], %c0: f64[3], %c1: f64[], %c2: i32[]) -> (f64[3], i32[]) {
  %0 = broadcast %c1 {shape=[3], dims=[]} : f64[3]
  %1 = mul %c0, %0 : f64[3]
  return %1, %n
}
)";

TEST(AutodiffCalls, MultiResultCustomVjpWithSomeCotangents) {
  ir::Module m = parse(kPair);
  ir::Module plain =
      parse(replace_all(replace_all(kPair, ", vjp=\"pair_bwd\"}", "}"), " {vjp=\"pair_bwd\"}", ""));
  std::mt19937_64 rng(4);
  for (size_t k = 0; k < 3; ++k) {
    const ir::Function& f = m.functions[k];
    SCOPED_TRACE("@" + f.name());
    auto args = random_point(f, rng);
    ir::Module g = check_grad(m, f, args);
    expect_same_values(run(g, args),
                       ir::interpret(grad(inline_calls(plain, plain.functions[k])), args));
    EXPECT_EQ(count(ir::print(g.functions[0]), "call @pair_bwd("), 1) << ir::print(g);
    check_vjp(m, f, args, rng);
  }
}

TEST(AutodiffCalls, CustomVjpSeesAllCotangentsOfACallAtOnce) {
  // 2 sum(y0) + 3 y1: c0 = 2 and c1 = 3 reach @pair_product together, which gives c0 c1 = 6;
  // one call per result with zeros for the other cotangent would give 0.
  ir::Module m = parse(std::string(R"(func @weighted(%x: f64[3], %n: i32[]) -> f64[] {
  %0 = call @pair(%x, %n) {vjp="pair_product"} : f64[3]
  %1 = call @pair(%x, %n) {result=1, vjp="pair_product"} : f64[]
  %2 = reduce_sum %0 {axes=[0]} : f64[]
  %3 = constant {value=2.0} : f64[]
  %4 = mul %2, %3 : f64[]
  %5 = constant {value=3.0} : f64[]
  %6 = mul %1, %5 : f64[]
  %7 = add %4, %6 : f64[]
  return %7
}

)") + kPair);
  std::mt19937_64 rng(5);
  auto args = random_point(m.functions[0], rng);
  ir::Module g = grad(m, m.functions[0]);
  expect_round_trip(g);
  auto got = run(g, args);
  ASSERT_EQ(got.size(), 1u);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(got[0].get_f64(i), 6.0) << i << "\n" << ir::print(g);
  EXPECT_EQ(count(ir::print(g), "call @pair_product("), 1) << ir::print(g);
}

TEST(AutodiffCalls, CheckpointedCallsRecomputeThroughAGeneratedVjp) {
  ir::Module m = parse(checkpointed_layers());
  const ir::Function& f = m.functions[0];
  std::mt19937_64 rng(6);
  auto args = random_point(f, rng);
  ir::Module g = check_grad(m, f, args);
  const std::string text = ir::print(g);
  EXPECT_NE(text.find("func @layer_vjp("), std::string::npos) << text;
  EXPECT_NE(text.find("func @layer("), std::string::npos) << text;
  EXPECT_EQ(text.find("func @shift("), std::string::npos) << text;  // inlined into the copies
  EXPECT_NE(text.find("call @layer_vjp("), std::string::npos) << text;
  EXPECT_NE(text.find("{result=1, checkpoint=1}"), std::string::npos) << text;
  EXPECT_EQ(g.functions.size(), 3u) << text;
  expect_same_values(run(g, args), run(grad(parse(kLayers), f), args));
  check_vjp(m, f, args, rng);
  std::vector<int> only_w{1};
  check_grad(m, f, args, only_w);
}

const char* const kBlock = R"(func @loss(%x: f64[3], %n: i32[], %w: f64[3]) -> f64[] {
  %0 = call @block(%x, %n, %w) {checkpoint=1} : f64[3]
  %1 = call @block(%x, %n, %w) {result=1, checkpoint=1} : f64[]
  %2 = mul %0, %0 : f64[3]
  %3 = reduce_sum %2 {axes=[0]} : f64[]
  %4 = mul %3, %1 : f64[]
  return %4
}

func @block(%x: f64[3], %n: i32[], %w: f64[3]) -> (f64[3], f64[], i32[]) {
  %0 = mul %x, %w : f64[3]
  %1 = sin %0 : f64[3]
  %2 = convert %n : f64[]
  %3 = reduce_sum %1 {axes=[0]} : f64[]
  %4 = mul %3, %2 : f64[]
  %5 = tanh %4 : f64[]
  return %1, %5, %n
}
)";

TEST(AutodiffCalls, CheckpointedMultiResultCallWithAnIntegerArgument) {
  ir::Module m = parse(kBlock);
  ir::Module plain =
      parse(replace_all(replace_all(kBlock, " {checkpoint=1}", ""), ", checkpoint=1}", "}"));
  const ir::Function& f = m.functions[0];
  std::mt19937_64 rng(7);
  auto args = random_point(f, rng, {.int_hi = 3});
  args[1].set_i64(0, 2);
  for (std::vector<int> wrt : {std::vector<int>{}, std::vector<int>{2}, std::vector<int>{0}}) {
    ir::Module g = check_grad(m, f, args, wrt);
    expect_same_values(run(g, args), run(grad(plain, plain.functions[0], wrt), args));
    // Results 0..2 of @block_vjp are @block's; the float parameters' cotangents follow.
    const std::string text = ir::print(g);
    EXPECT_NE(text.find("func @block_vjp("), std::string::npos) << text;
    if (wrt != std::vector<int>{0}) {
      EXPECT_NE(text.find("{result=4, checkpoint=1}"), std::string::npos) << text;
    }
    if (wrt != std::vector<int>{2}) {
      EXPECT_NE(text.find("{result=3, checkpoint=1}"), std::string::npos) << text;
    }
  }
  check_vjp(m, f, args, rng);
}

TEST(AutodiffCalls, SecondOrderThroughPlainAndCheckpointedCalls) {
  for (const std::string& text : {std::string(kLayers), checkpointed_layers()}) {
    ir::Module m = parse(text);
    const ir::Function& f = m.functions[0];
    std::mt19937_64 rng(8);
    auto args = random_point(f, rng);
    ir::Module g = check_grad(m, f, args);
    // Hessian-vector products: reverse over reverse, against finite differences of the grad.
    ir::Module h = check_vjp(g, g.functions[0], args, rng);
    // Forward over reverse too (checkpointed calls inline for jvp).
    ir::Module fh = jvp(g, g.functions[0]);
    expect_round_trip(fh);
    // And a third order, which must terminate with every generated function in place.
    std::vector<HostArray> hargs = args;
    for (const HostArray& a : run(g, args))
      hargs.push_back(random_like(a.type(), rng));
    check_vjp(h, h.functions[0], hargs, rng);
  }
}

TEST(AutodiffCalls, SecondOrderGeneratesTheVjpOfTheGeneratedVjp) {
  ir::Module m = parse(checkpointed_layers());
  ir::Module g = grad(m, m.functions[0]);
  ir::Module h = vjp(g, g.functions[0]);
  expect_round_trip(h);
  // The checkpoint=1 backward call is itself checkpointed: its own vjp is generated, and
  // @layer's, which the input already holds as @layer_vjp, is not made twice.
  const std::string text = ir::print(h);
  for (const char* name : {"@loss_grad_vjp(", "@layer(", "@layer_vjp(", "@layer_vjp_vjp("})
    EXPECT_NE(text.find(std::string("func ") + name), std::string::npos) << name << "\n" << text;
  EXPECT_EQ(h.functions.size(), 4u) << text;
  // A different function under that name is left alone.
  ASSERT_EQ(g.functions.at(2).name(), "layer_vjp");
  const ir::Function& old = g.functions[2];
  ir::Function other("layer_vjp");
  for (ir::Value p : old.params())
    other.add_param(old.node(p).param_name, old.type(p));
  std::vector<ir::Value> results;
  for (ir::Value r : old.results())
    results.push_back(other.add(ir::OpKind::Constant, {}, {{"value", 0.5}}, old.type(r)));
  other.set_results(results);
  ir::Module clash = g;
  clash.functions[2] = other;
  ir::Module h2 = vjp(clash, clash.functions[0]);
  expect_round_trip(h2);
  EXPECT_NE(ir::print(h2).find("func @layer_vjp_("), std::string::npos) << ir::print(h2);
  EXPECT_EQ(h2.functions.size(), 5u) << ir::print(h2);
}

TEST(AutodiffCalls, SecondOrderThroughACustomVjpDifferentiatesTheBackward) {
  ir::Module m = parse(kCube);
  std::mt19937_64 rng(9);
  auto args = random_point(m.functions[0], rng);
  ir::Module g = check_grad(m, m.functions[0], args);
  ir::Module h = check_vjp(g, g.functions[0], args, rng);
  // The grad's plain call of @cube_bwd is inlined and differentiated; its forward call of @cube
  // keeps the custom vjp, which the second backward pass runs again.
  EXPECT_NE(ir::print(h.functions[0]).find("call @cube(%x) {vjp=\"cube_bwd\"}"), std::string::npos)
      << ir::print(h);
}

TEST(AutodiffCalls, CustomVjpInsideACheckpointedCall) {
  ir::Module m = parse(std::string(R"(func @top(%x: f64[3]) -> f64[] {
  %0 = call @outer(%x) {checkpoint=1} : f64[3]
  %1 = reduce_sum %0 {axes=[0]} : f64[]
  return %1
}

func @outer(%x: f64[3]) -> f64[3] {
  %0 = call @sq(%x) {vjp="sq_clip"} : f64[3]
  %1 = constant {value=3.0} : f64[]
  %2 = broadcast %1 {shape=[3], dims=[]} : f64[3]
  %3 = mul %0, %2 : f64[3]
  return %3
}

)") + kClipped);
  std::mt19937_64 rng(10);
  auto args = random_point(m.functions[0], rng);
  ir::Module g = grad(m, m.functions[0]);
  expect_round_trip(g);
  const std::string text = ir::print(g);
  for (const char* name : {"@outer_vjp(", "@sq(", "@sq_clip("})
    EXPECT_NE(text.find(std::string("func ") + name), std::string::npos) << name << "\n" << text;
  auto got = run(g, args);
  ASSERT_EQ(got.size(), 1u);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(got[0].get_f64(i), 2 * args[0].get_f64(i)) << i << "\n" << text;
  // vjp keeps the forward call, so @outer comes along, its custom-vjp call kept inside.
  ir::Module v = vjp(m, m.functions[0]);
  expect_round_trip(v);
  EXPECT_NE(ir::print(v).find("func @outer("), std::string::npos) << ir::print(v);
  EXPECT_NE(ir::print(v).find("call @sq(%x) {vjp=\"sq_clip\"}"), std::string::npos) << ir::print(v);
  // Forward mode has no rule for the custom vjp, wherever it is.
  try {
    jvp(m, m.functions[0]);
    ADD_FAILURE() << "jvp through a custom vjp did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[jvp] @outer: call @sq has a custom vjp and forward mode has no rule for it (as "
              "in JAX's custom_vjp); use vjp or grad");
  }
}

TEST(AutodiffCalls, NestedCheckpointsAndARepeatedArgument) {
  ir::Module m = parse(R"(func @loss(%x: f64[3], %w: f64[3]) -> f64[] {
  %0 = call @outer(%x, %w) {checkpoint=1} : f64[3]
  %1 = call @outer(%0, %0) {checkpoint=1} : f64[3]
  %2 = mul %1, %0 : f64[3]
  %3 = reduce_sum %2 {axes=[0]} : f64[]
  return %3
}

func @outer(%a: f64[3], %b: f64[3]) -> f64[3] {
  %0 = call @inner(%a) {checkpoint=1} : f64[3]
  %1 = mul %0, %b : f64[3]
  %2 = tanh %1 : f64[3]
  return %2
}

func @inner(%a: f64[3]) -> f64[3] {
  %0 = sin %a : f64[3]
  %1 = mul %0, %a : f64[3]
  return %1
}
)");
  const ir::Function& f = m.functions[0];
  std::mt19937_64 rng(13);
  auto args = random_point(f, rng);
  ir::Module g = check_grad(m, f, args);
  const std::string text = ir::print(g);
  for (const char* name : {"@outer(", "@outer_vjp(", "@inner(", "@inner_vjp("})
    EXPECT_NE(text.find(std::string("func ") + name), std::string::npos) << name << "\n" << text;
  ir::Module plain = parse(replace_all(ir::print(m), " {checkpoint=1}", ""));
  expect_same_values(run(g, args), run(grad(plain, plain.functions[0]), args));
  check_vjp(g, g.functions[0], args, rng);
  // Executed with barriers, the flat gradient still computes the same.
  ir::Function barriers = inline_calls(g, g.functions[0], {.checkpoint_barriers = true});
  expect_same_values(ir::interpret(barriers, args), run(g, args), 0);
}

TEST(AutodiffCalls, JvpOfACustomVjpCallIsAnError) {
  ir::Module m = parse(kCube);
  try {
    jvp(m, m.functions[0]);
    ADD_FAILURE() << "jvp through a custom vjp did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[jvp] @loss: call @cube has a custom vjp and forward mode has no rule for it (as "
              "in JAX's custom_vjp); use vjp or grad");
  }
}

TEST(AutodiffCalls, GeneratedNamesAvoidTheModulesNames) {
  // The user's custom vjp is called @sq_vjp already, and a callee is named like the result.
  ir::Module m = parse(R"(func @loss(%x: f64[3]) -> f64[] {
  %0 = call @sq(%x) {checkpoint=1} : f64[3]
  %1 = call @sq(%0) {vjp="sq_vjp"} : f64[3]
  %2 = call @loss_value_and_grad(%1) {checkpoint=1} : f64[]
  return %2
}

func @sq(%x: f64[3]) -> f64[3] {
  %0 = mul %x, %x : f64[3]
  return %0
}

func @sq_vjp(%x: f64[3], %c: f64[3]) -> f64[3] {
  %0 = add %x, %x : f64[3]
  %1 = mul %0, %c : f64[3]
  return %1
}

func @loss_value_and_grad(%x: f64[3]) -> f64[] {
  %0 = sin %x : f64[3]
  %1 = reduce_sum %0 {axes=[0]} : f64[]
  return %1
}
)");
  std::mt19937_64 rng(11);
  auto args = random_point(m.functions[0], rng);
  check_grad(m, m.functions[0], args);  // value_and_grad round-trips there too
  ir::Module g = value_and_grad(m, m.functions[0]);
  const std::string text = ir::print(g);
  EXPECT_EQ(g.functions[0].name(), "loss_value_and_grad_") << text;
  EXPECT_NE(text.find("func @sq_vjp_("), std::string::npos) << text;
  EXPECT_NE(text.find("func @sq_vjp("), std::string::npos) << text;
  EXPECT_NE(text.find("func @loss_value_and_grad("), std::string::npos) << text;
  EXPECT_NE(text.find("func @loss_value_and_grad_vjp("), std::string::npos) << text;
}

TEST(AutodiffCalls, CheckpointBarriersKeepTheRecomputationDistinct) {
  ir::Module m = parse(R"(func @f(%x: f64[3]) -> f64[] {
  %0 = call @act(%x) {checkpoint=1} : f64[3]
  %1 = mul %0, %0 : f64[3]
  %2 = reduce_sum %1 {axes=[0]} : f64[]
  return %2
}

func @act(%x: f64[3]) -> f64[3] {
  %0 = sin %x : f64[3]
  %1 = mul %0, %x : f64[3]
  return %1
}
)");
  ir::Module v = vjp(m, m.functions[0]);
  expect_round_trip(v);
  ir::Function merged = inline_calls(v, v.functions[0]);
  ir::Function kept = inline_calls(v, v.functions[0], {.checkpoint_barriers = true});
  EXPECT_FALSE(has_calls(kept));
  EXPECT_EQ(count(ir::print(merged), " = sin "), 1) << ir::print(merged);
  EXPECT_EQ(count(ir::print(kept), " = sin "), 2) << ir::print(kept);
  EXPECT_NE(ir::print(kept).find("stop_gradient"), std::string::npos);
  std::mt19937_64 rng(12);
  std::vector<HostArray> args = random_point(m.functions[0], rng);
  args.push_back(random_like(ir::TensorType{ir::DType::F64, {}}, rng));
  auto want = run(v, args);
  EXPECT_EQ(ir::interpret(merged, args), want);
  EXPECT_EQ(ir::interpret(kept, args), want);
}

}  // namespace
}  // namespace kiln::passes
