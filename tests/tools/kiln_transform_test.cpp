// `kiln transform` run as a user runs it: the printed function of each mode, its parameter and
// result order, output that `kiln run` and `kiln opt` read back, and one clear error line with
// exit status 1 for every bad command line.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/npy.h"
#include "tests/tools/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

constexpr const char* kProgram = R"(func @f(%x: f32[3]) -> f32[] {
  %0 = mul %x, %x : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  return %1
}

// Two results, an integer parameter between two float ones.
func @g(%x: f32[2,3], %n: i32[], %w: f32[3]) -> (f32[2], f32[2,3]) {
  %0 = broadcast %w {shape=[2,3], dims=[1]} : f32[2,3]
  %1 = mul %x, %0 : f32[2,3]
  %2 = reduce_sum %1 {axes=[1]} : f32[2]
  %3 = sin %x : f32[2,3]
  return %2, %3
}

// sum(x*x) + sum(x*y), the first half through a call.
func @h(%x: f32[3], %y: f32[3]) -> f32[] {
  %0 = call @f(%x) : f32[]
  %1 = mul %x, %y : f32[3]
  %2 = reduce_sum %1 {axes=[0]} : f32[]
  %3 = add %0, %2 : f32[]
  return %3
}

func @ints(%n: i32[]) -> i32[] {
  return %n
}

func @vec(%x: f32[3]) -> f32[3] {
  %0 = exp %x : f32[3]
  return %0
}
)";

const char* kGradF = R"(func @f_grad(%x: f32[3]) -> f32[3] {
  %0 = constant {value=2.0} : f32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f32[3]
  %2 = mul %1, %x : f32[3]
  return %2
}
)";

class KilnTransform : public kiln::testing::KilnCommandTest {
 protected:
  void SetUp() override {
    KilnCommandTest::SetUp();
    program_ = write("p.kir", kProgram);
  }

  Result transform(const std::string& args) {
    return kiln("transform " + program_.string() + " " + args);
  }

  // Writes `values` as an f32 .npy of `shape` and returns " --input NAME=PATH".
  std::string input(const std::string& name, std::vector<int64_t> shape,
                    const std::vector<double>& values) {
    kiln::ir::HostArray a(kiln::ir::TensorType{kiln::ir::DType::F32, std::move(shape)});
    EXPECT_EQ(a.num_elements(), static_cast<int64_t>(values.size()));
    for (size_t i = 0; i < values.size(); ++i)
      a.set_f64(static_cast<int64_t>(i), values[i]);
    fs::path path = dir_ / (name + ".npy");
    kiln::io::save_npy(path, a);
    return " --input " + name + "=" + path.string();
  }

  // Saves `text` (a transform's output) and runs it with `inputs`; returns each result's
  // elements.
  std::vector<std::vector<double>> run(const std::string& text, const std::string& inputs) {
    fs::path file = write("t.kir", text);
    fs::path out = dir_ / "out";
    fs::remove_all(out);
    Result r = kiln("run " + file.string() + inputs + " --output-dir " + out.string());
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::vector<double>> results;
    for (int k = 0; fs::exists(out / (std::to_string(k) + ".npy")); ++k) {
      kiln::ir::HostArray a = kiln::io::load_npy(out / (std::to_string(k) + ".npy"));
      std::vector<double> values;
      for (int64_t i = 0; i < a.num_elements(); ++i)
        values.push_back(a.get_f64(i));
      results.push_back(std::move(values));
    }
    return results;
  }

  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

  // One line on stderr, nothing on stdout, exit status 1.
  static void expect_error(const Result& r, const std::string& message) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, message + "\n");
  }

  fs::path program_;
};

// ---- each mode's output ---------------------------------------------------------------------

TEST_F(KilnTransform, GradPrintsTheSimplifiedGradient) {
  Result r = transform("--grad");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kGradF);
  EXPECT_EQ(r.err, "");
}

TEST_F(KilnTransform, ValueAndGradReturnsTheValueFirst) {
  Result r = transform("--value-and-grad");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, R"(func @f_value_and_grad(%x: f32[3]) -> (f32[], f32[3]) {
  %0 = mul %x, %x : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  %2 = constant {value=2.0} : f32[]
  %3 = broadcast %2 {shape=[3], dims=[]} : f32[3]
  %4 = mul %3, %x : f32[3]
  return %1, %4
}
)");
}

TEST_F(KilnTransform, JvpTakesTangentsAfterThePrimals) {
  Result r = transform("--jvp");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out), "func @f_jvp(%x: f32[3], %t_x: f32[3]) -> (f32[], f32[]) {");
  // y = sum(x*x) = 14; its tangent along t is 2 x.t = 2 (1 + 2) = 6.
  auto results = run(r.out, input("x", {3}, {1, 2, 3}) + input("t_x", {3}, {1, 1, 0}));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], std::vector<double>{14});
  EXPECT_EQ(results[1], std::vector<double>{6});
}

TEST_F(KilnTransform, VjpTakesCotangentsAfterThePrimals) {
  Result r = transform("--vjp");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out), "func @f_vjp(%x: f32[3], %c0: f32[]) -> (f32[], f32[3]) {");
  auto results = run(r.out, input("x", {3}, {1, 2, 3}) + input("c0", {}, {0.5}));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], std::vector<double>{14});
  EXPECT_EQ(results[1], (std::vector<double>{1, 2, 3}));  // 0.5 * 2x
}

TEST_F(KilnTransform, VmapBatchesAtAxisZeroByDefault) {
  Result r = transform("--vmap --batch-size=4");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, R"(func @f_vmap(%x: f32[4,3]) -> f32[4] {
  %0 = mul %x, %x : f32[4,3]
  %1 = reduce_sum %0 {axes=[1]} : f32[4]
  return %1
}
)");
}

TEST_F(KilnTransform, VmapWithInAxesOutAxesAndAnUnbatchedParameter) {
  Result r = transform("--func g --vmap --batch-size=4 --in-axes=1,none,0 --out-axes=-1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out),
            "func @g_vmap(%x: f32[2,4,3], %n: i32[], %w: f32[4,3]) -> (f32[2,4], f32[2,3,4]) {");
  // A negative in-axis counts from the end of the batched rank; one out-axis applies to all.
  Result same = transform("--func g --vmap --batch-size 4 --in-axes=-2,none,-2 --out-axes=-1,-1");
  EXPECT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(same.out, r.out);
}

TEST_F(KilnTransform, VmapOfANumericResultMatchesALoop) {
  Result r = transform("--vmap --batch-size=2 --in-axes=1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out), "func @f_vmap(%x: f32[3,2]) -> f32[2] {");
  // Column b is the b-th input: [1,2,3] and [0,1,-1].
  auto results = run(r.out, input("x", {3, 2}, {1, 0, 2, 1, 3, -1}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], (std::vector<double>{14, 2}));
}

// ---- several results, --wrt, --func -----------------------------------------------------------

TEST_F(KilnTransform, JvpOfSeveralResultsSkipsIntegerParameters) {
  Result r = transform("--func g --jvp");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out),
            "func @g_jvp(%x: f32[2,3], %n: i32[], %w: f32[3], %t_x: f32[2,3], %t_w: f32[3]) -> "
            "(f32[2], f32[2,3], f32[2], f32[2,3]) {");
}

TEST_F(KilnTransform, WrtPicksAndOrdersTheTangents) {
  Result r = transform("--func g --jvp --wrt=2,0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out),
            "func @g_jvp(%x: f32[2,3], %n: i32[], %w: f32[3], %t_w: f32[3], %t_x: f32[2,3]) -> "
            "(f32[2], f32[2,3], f32[2], f32[2,3]) {");
  Result only_w = transform("--func g --vjp --wrt 2");
  ASSERT_EQ(only_w.status, 0) << only_w.err;
  EXPECT_EQ(first_line(only_w.out),
            "func @g_vjp(%x: f32[2,3], %n: i32[], %w: f32[3], %c0: f32[2], %c1: f32[2,3]) -> "
            "(f32[2], f32[2,3], f32[3]) {");
}

TEST_F(KilnTransform, VjpOfSeveralResultsComputesEachCotangent) {
  Result r = transform("--func g --vjp");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(first_line(r.out),
            "func @g_vjp(%x: f32[2,3], %n: i32[], %w: f32[3], %c0: f32[2], %c1: f32[2,3]) -> "
            "(f32[2], f32[2,3], f32[2,3], f32[3]) {");
  // With c1 = 0 only the first result counts: d/dx (c0 . (x w)) = c0 w^T, d/dw = x^T c0.
  auto results = run(r.out, input("x", {2, 3}, {1, 2, 3, 4, 5, 6}) + input("w", {3}, {1, 0, -1}) +
                                input("c0", {2}, {1, 2}) + input("c1", {2, 3}, {0, 0, 0, 0, 0, 0}) +
                                " --random-inputs");
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0], (std::vector<double>{-2, -2}));
  EXPECT_EQ(results[2], (std::vector<double>{1, 0, -1, 2, 0, -2}));
  EXPECT_EQ(results[3], (std::vector<double>{9, 12, 15}));
}

TEST_F(KilnTransform, FuncPicksAFunctionAndCallsAreInlined) {
  Result r = transform("--func h --grad --wrt=1,0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("call"), std::string::npos) << r.out;
  EXPECT_EQ(first_line(r.out), "func @h_grad(%x: f32[3], %y: f32[3]) -> (f32[3], f32[3]) {");
  // d/dy = x, d/dx = 2x + y.
  auto results = run(r.out, input("x", {3}, {1, 2, 3}) + input("y", {3}, {1, 1, 1}));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(results[1], (std::vector<double>{3, 5, 7}));
}

// Reverse mode keeps a call with a custom vjp (its backward function follows the result) and a
// checkpointed call (its generated vjp follows it); forward mode has no rule for a custom vjp.
constexpr const char* kMarkedCalls = R"(func @h(%x: f32[3], %y: f32[3]) -> f32[] {
  %0 = call @sq(%x) {vjp="sq_bwd"} : f32[]
  %1 = mul %x, %y : f32[3]
  %2 = reduce_sum %1 {axes=[0]} : f32[]
  %3 = add %0, %2 : f32[]
  return %3
}

func @sq(%x: f32[3]) -> f32[] {
  %0 = mul %x, %x : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  return %1
}

// Not the derivative of @sq (that is 2x c), so that the tests see which rule ran.
func @sq_bwd(%x: f32[3], %c: f32[]) -> f32[3] {
  %0 = constant {value=3.0} : f32[]
  %1 = mul %0, %c : f32[]
  %2 = broadcast %1 {shape=[3], dims=[]} : f32[3]
  return %2
}

// sin(sum(x*x)), the sum recomputed in the backward pass.
func @k(%x: f32[3]) -> f32[] {
  %0 = call @sq(%x) {checkpoint=1} : f32[]
  %1 = sin %0 : f32[]
  return %1
}
)";

// The names of the functions of a printed module, in order.
std::vector<std::string> function_names(const std::string& text) {
  std::vector<std::string> names;
  for (size_t at = text.find("func @"); at != std::string::npos; at = text.find("func @", at + 1))
    names.push_back(text.substr(at + 6, text.find('(', at) - at - 6));
  return names;
}

TEST_F(KilnTransform, GradCallsACustomVjpThatFollowsTheResult) {
  fs::path file = write("calls.kir", kMarkedCalls);
  Result r = kiln("transform " + file.string() + " --grad");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(function_names(r.out), (std::vector<std::string>{"h_grad", "sq_bwd"})) << r.out;
  EXPECT_NE(r.out.find("call @sq_bwd("), std::string::npos) << r.out;
  Result opt = kiln("opt " + write("t.kir", r.out).string() + " --passes=simplify");
  EXPECT_EQ(opt.status, 0) << opt.err;
  EXPECT_EQ(opt.out, r.out);
  // d/dx = custom rule (3) + y; d/dy = x.
  auto results = run(r.out, input("x", {3}, {1, 2, 3}) + input("y", {3}, {1, 0, -1}));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], (std::vector<double>{4, 3, 2}));
  EXPECT_EQ(results[1], (std::vector<double>{1, 2, 3}));
}

TEST_F(KilnTransform, CheckpointedCallsStayCalls) {
  fs::path file = write("calls.kir", kMarkedCalls);
  Result r = kiln("transform " + file.string() + " --func k --vjp");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> names = function_names(r.out);
  ASSERT_FALSE(names.empty()) << r.out;
  EXPECT_EQ(names.front(), "k_vjp");
  EXPECT_GT(names.size(), 1u) << r.out;
  EXPECT_NE(r.out.find("checkpoint=1"), std::string::npos) << r.out;
  // y = sin(s), s = 0.25 + 0 + 0.25 = 0.5; c_x = c cos(s) 2x.
  auto results = run(r.out, input("x", {3}, {0.5, 0, -0.5}) + input("c0", {}, {2}));
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[1].size(), 3u);
  EXPECT_FLOAT_EQ(results[0][0], std::sin(0.5f));
  EXPECT_FLOAT_EQ(results[1][0], 2 * std::cos(0.5f));
  EXPECT_EQ(results[1][1], 0);
  EXPECT_FLOAT_EQ(results[1][2], -2 * std::cos(0.5f));
}

TEST_F(KilnTransform, JvpHasNoRuleForACustomVjp) {
  fs::path file = write("calls.kir", kMarkedCalls);
  expect_error(kiln("transform " + file.string() + " --jvp"),
               "[jvp] @h: call @sq has a custom vjp and forward mode has no rule for it (as in "
               "JAX's custom_vjp); use vjp or grad");
  // vmap batches the flat function: the call is inlined.
  Result v = kiln("transform " + file.string() + " --vmap --batch-size=2");
  ASSERT_EQ(v.status, 0) << v.err;
  EXPECT_EQ(function_names(v.out), std::vector<std::string>{"h_vmap"});
}

// ---- the output is a module the other commands read
// ----------------------------------------------

TEST_F(KilnTransform, OutputPipesIntoRunAndOpt) {
  for (const char* mode :
       {"--jvp", "--vjp", "--grad", "--value-and-grad", "--vmap --batch-size=3"}) {
    SCOPED_TRACE(mode);
    Result r = transform(std::string("--func h ") + mode);
    ASSERT_EQ(r.status, 0) << r.err;
    fs::path file = write("t.kir", r.out);
    Result ran =
        kiln("run " + file.string() + " --random-inputs --output-dir " + (dir_ / "out").string());
    EXPECT_EQ(ran.status, 0) << ran.err;
    // Already simplified: simplify is a fixed point on it.
    Result opt = kiln("opt " + file.string() + " --passes=simplify");
    EXPECT_EQ(opt.status, 0) << opt.err;
    EXPECT_EQ(opt.out, r.out);
  }
}

TEST_F(KilnTransform, TransformsCompose) {
  // The output transforms again: vmap of grad gives per-example gradients, 2x for sum(x*x).
  Result g = transform("--grad");
  ASSERT_EQ(g.status, 0) << g.err;
  fs::path grad_file = write("g.kir", g.out);
  Result v = kiln("transform " + grad_file.string() + " --vmap --batch-size=2");
  ASSERT_EQ(v.status, 0) << v.err;
  EXPECT_EQ(first_line(v.out), "func @f_grad_vmap(%x: f32[2,3]) -> f32[2,3] {");
  auto results = run(v.out, input("x", {2, 3}, {1, 2, 3, -1, 0, 4}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], (std::vector<double>{2, 4, 6, -2, 0, 8}));
}

// ---- errors
// ---------------------------------------------------------------------------------------

constexpr const char* kModes = "--jvp, --vjp, --grad, --value-and-grad, --vmap";

TEST_F(KilnTransform, ExactlyOneModeIsRequired) {
  expect_error(transform(""), std::string("[transform] give one of ") + kModes);
  expect_error(transform("--grad --vmap --batch-size=2"),
               std::string("[transform] --grad and --vmap cannot be combined: give exactly one "
                           "of ") +
                   kModes);
  expect_error(transform("--jvp --vjp --value-and-grad"),
               std::string("[transform] --jvp, --vjp and --value-and-grad cannot be combined: "
                           "give exactly one of ") +
                   kModes);
}

TEST_F(KilnTransform, OptionsThatDoNotApplyToTheModeAreErrors) {
  expect_error(transform("--grad --in-axes=0"),
               "[transform] --in-axes applies only to --vmap, not to --grad");
  expect_error(transform("--jvp --out-axes=0"),
               "[transform] --out-axes applies only to --vmap, not to --jvp");
  expect_error(transform("--value-and-grad --batch-size=2"),
               "[transform] --batch-size applies only to --vmap, not to --value-and-grad");
  expect_error(transform("--vmap --batch-size=2 --wrt=0"),
               "[transform] --wrt does not apply to --vmap (it picks the parameters to "
               "differentiate with --jvp, --vjp, --grad, --value-and-grad)");
}

TEST_F(KilnTransform, BadWrtIsAnError) {
  expect_error(transform("--grad --wrt=a"),
               "[transform] --wrt=a: 'a' is not a parameter index (an integer from 0)");
  expect_error(transform("--grad --wrt=0,1x"),
               "[transform] --wrt=0,1x: '1x' is not a parameter index (an integer from 0)");
  expect_error(transform("--grad --wrt=99999999999"),
               "[transform] --wrt=99999999999: '99999999999' is not a parameter index (an "
               "integer from 0)");
  expect_error(transform("--grad --wrt="),
               "[transform] --wrt= is empty: give a comma-separated list, or leave the option "
               "out");
  expect_error(transform("--grad --wrt=0,,0"), "[transform] --wrt=0,,0: entry 2 is empty");
  expect_error(transform("--grad --wrt=0 --wrt=0"),
               "[transform] --wrt is given 2 times; give it once");
  // Range, repeats and dtypes are the passes' rules, in their words.
  expect_error(transform("--grad --wrt=1"),
               "[grad] @f: wrt index 1 is out of range (the function has 1 parameter)");
  expect_error(transform("--vjp --wrt=-1"),
               "[vjp] @f: wrt index -1 is out of range (the function has 1 parameter)");
  expect_error(transform("--grad --wrt=0,0"), "[grad] @f: wrt lists parameter 0 twice");
  expect_error(transform("--func g --jvp --wrt=0,1"),
               "[jvp] @g: parameter 1 (%n: i32[]) is not a float; only float parameters can be "
               "differentiated");
  expect_error(transform("--func ints --grad"),
               "[transform] @ints has no float parameter to differentiate");
}

TEST_F(KilnTransform, GradNeedsAFloatScalarResult) {
  expect_error(transform("--func g --grad"),
               "[grad] @g: grad needs a function with one result, got 2");
  expect_error(transform("--func vec --value-and-grad"),
               "[grad] @vec: grad needs a scalar result, got f32[3]");
}

TEST_F(KilnTransform, BadVmapOptionsAreErrors) {
  expect_error(transform("--vmap"),
               "[transform] --vmap needs --batch-size=B (the size of the batch axis)");
  expect_error(transform("--vmap --batch-size=two"),
               "[transform] --batch-size=two is not a positive integer");
  expect_error(transform("--vmap --batch-size=0"),
               "[transform] --batch-size=0 is not a positive integer");
  expect_error(transform("--vmap --batch-size=2 --in-axes=0,1"),
               "[transform] --in-axes=0,1 has 2 entries but @f has 1 parameter (give one per "
               "parameter: an axis, or none for an unbatched one)");
  expect_error(transform("--func g --vmap --batch-size=2 --in-axes=0"),
               "[transform] --in-axes=0 has 1 entry but @g has 3 parameters (give one per "
               "parameter: an axis, or none for an unbatched one)");
  expect_error(transform("--vmap --batch-size=2 --in-axes=None"),
               "[transform] --in-axes=None: 'None' is not an axis (an integer, negative from "
               "the end, or none)");
  expect_error(transform("--vmap --batch-size=2 --out-axes=none"),
               "[transform] --out-axes=none: 'none' is not an axis (an integer, negative from "
               "the end)");
  expect_error(transform("--func g --vmap --batch-size=2 --out-axes=0,0,0"),
               "[transform] --out-axes=0,0,0 has 3 entries but @g has 2 results (give one per "
               "result, or one for all)");
  // Axes out of range are the pass's rule, in its words.
  expect_error(transform("--vmap --batch-size=2 --in-axes=2"),
               "[vmap] @f: in_axes[0] = 2 is out of range for parameter %x of type f32[3] "
               "(batched rank 2: axes [-2, 1])");
  expect_error(transform("--vmap --batch-size=2 --out-axes=1"),
               "[vmap] @f: out_axes = 1 is out of range for result 0 of type f32[] (batched "
               "rank 1: axes [-1, 0])");
}

TEST_F(KilnTransform, BadFilesAndFunctionsAreErrors) {
  expect_error(
      transform("--func nope --grad"),
      "[kiln] " + program_.string() + ": no function @nope (the file has @f, @g, @h, @ints, @vec)");
  fs::path missing = dir_ / "missing.kir";
  Result r = kiln("transform " + missing.string() + " --grad");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind(missing.string() + ": error: cannot open", 0), 0u) << r.err;
  fs::path broken = write("broken.kir", "func @f(%x: f32[3]) -> f32[3] {\n  return %y\n}\n");
  Result b = kiln("transform " + broken.string() + " --jvp");
  EXPECT_EQ(b.status, 1);
  EXPECT_EQ(b.out, "");
  EXPECT_EQ(b.err.rfind(broken.string() + ":2:", 0), 0u) << b.err;
}

}  // namespace
