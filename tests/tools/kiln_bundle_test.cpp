// `kiln compile`, `kiln bundle` and `kiln run B.kbundle` as a user runs them: a bundle gives
// the same .npy files as running its .kir, entries and bound weights the same as `kiln
// transform` and `--input`, compiling is reproducible, what `kiln bundle` prints and extracts is
// usable again, and every bad option or damaged bundle gives exit status 1, one message, and no
// output. Bundles compared byte for byte with the JIT are compiled for `host`, the code the JIT
// makes; the default levels are compared within a tolerance.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "io/npy.h"
#include "tests/common/require_device.h"
#include "tests/tools/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

constexpr const char* kProgram = R"(func @f(%x: f32[4,3], %w: f32[3,2]) -> (f32[4,2], f32[4]) {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[4,2]
  %1 = tanh %0 : f32[4,2]
  %2 = reduce_sum %x {axes=[1]} : f32[4]
  return %1, %2
}

func @loss(%x: f32[5], %y: f32[5]) -> f32[] {
  %0 = sub %x, %y : f32[5]
  %1 = mul %0, %0 : f32[5]
  %2 = exp %x : f32[5]
  %3 = mul %1, %2 : f32[5]
  %4 = reduce_sum %3 {axes=[0]} : f32[]
  return %4
}
)";

class KilnBundle : public kiln::testing::KilnCommandTest {
 protected:
  void SetUp() override {
    KilnCommandTest::SetUp();
    program_ = write("p.kir", kProgram);
    f_inputs_ = input("x", "x43", {4, 3}, 1) + input("w", "w", {3, 2}, 2);
    loss_inputs_ = input("x", "x5", {5}, 3) + input("y", "y", {5}, 4);
  }

  // Writes a seeded f32 FILE.npy of `shape` and returns " --input PARAM=FILE.npy".
  std::string input(const std::string& param, const std::string& file, std::vector<int64_t> shape,
                    int seed) {
    kiln::ir::HostArray a(kiln::ir::TensorType{kiln::ir::DType::F32, std::move(shape)});
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::sin(static_cast<double>(seed * 100 + i)));
    const fs::path path = dir_ / (file + ".npy");
    kiln::io::save_npy(path, a);
    return " --input " + param + "=" + path.string();
  }

  // `kiln compile p.kir ARGS -o NAME`, which must succeed; returns the bundle's path.
  fs::path compile(const std::string& args, const std::string& name = "b.kbundle") {
    const fs::path out = dir_ / name;
    const Result r = kiln("compile " + program_.string() + " " + args + " -o " + out.string());
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return out;
  }

  // `kiln run FILE ARGS` into a fresh folder OUT; returns each result's file, as bytes.
  std::vector<std::string> run(const std::string& file, const std::string& args,
                               const std::string& out) {
    fs::remove_all(dir_ / out);
    const Result r = kiln("run " + file + " " + args + " --output-dir " + (dir_ / out).string());
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::string> results;
    for (int k = 0; fs::exists(dir_ / out / (std::to_string(k) + ".npy")); ++k)
      results.push_back(slurp(dir_ / out / (std::to_string(k) + ".npy")));
    EXPECT_FALSE(results.empty()) << file << " " << args;
    return results;
  }

  // Failed as a user error of `component`: exit status 1, one line starting "[component]".
  static void expect_one_line(const Result& r, const std::string& component,
                              const std::string& fragment = "") {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.err.rfind("[" + component + "]", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos)
        << "expected '" << fragment << "' in " << r.err;
  }

  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
      ++n;
    return n;
  }

  fs::path program_;
  std::string f_inputs_, loss_inputs_;  // for @f, and for @loss and its gradient
};

TEST_F(KilnBundle, RunGivesTheSameFilesAsRunningTheKir) {
  const fs::path b = compile("--func f --func loss --target host");
  for (const auto& [func, inputs] : {std::pair{"f", f_inputs_}, std::pair{"loss", loss_inputs_}}) {
    const std::string args = std::string("--func ") + func + inputs;
    EXPECT_EQ(run(b.string(), args, "bundle"),
              run(program_.string(), args + " --device cpu", "jit"))
        << func;
  }
}

TEST_F(KilnBundle, TheDefaultLevelsAgreeWithTheInterpreter) {
  KILN_REQUIRE_X86_64_V3();
  const fs::path b = compile("--func f");
  run(b.string(), f_inputs_, "bundle");
  run(program_.string(), f_inputs_ + " --device interp", "interp");
  for (int k = 0; k < 2; ++k) {
    const auto got = kiln::io::load_npy(dir_ / "bundle" / (std::to_string(k) + ".npy"));
    const auto want = kiln::io::load_npy(dir_ / "interp" / (std::to_string(k) + ".npy"));
    ASSERT_EQ(got.type(), want.type());
    for (int64_t i = 0; i < want.num_elements(); ++i)
      EXPECT_NEAR(got.get_f64(i), want.get_f64(i), 1e-5) << "result " << k << " at " << i;
  }
}

TEST_F(KilnBundle, CompilingTwiceGivesTheSameBytes) {
  const std::string args =
      "--func f --entry g=grad:loss:wrt=0 --bind w=" + (dir_ / "w.npy").string() +
      " --target x86-64-v3,x86-64-v4";
  const fs::path a = compile(args, "a.kbundle"), b = compile(args, "b.kbundle");
  EXPECT_EQ(slurp(a), slurp(b));
  EXPECT_GT(slurp(a).size(), 0u);
}

TEST_F(KilnBundle, EntriesMatchKilnTransform) {
  const fs::path b =
      compile("--entry g=grad:loss:wrt=0 --entry v=vmap:loss:batch=2:in-axes=0,none --target host");
  // The same transforms by `kiln transform`, saved and run on the CPU.
  const Result grad = kiln("transform " + program_.string() + " --func loss --grad --wrt 0");
  ASSERT_EQ(grad.status, 0) << grad.err;
  const fs::path grad_kir = write("grad.kir", grad.out);
  EXPECT_EQ(run(b.string(), "--func g" + loss_inputs_, "bundle"),
            run(grad_kir.string(), loss_inputs_ + " --device cpu", "jit"));

  const Result vmap = kiln("transform " + program_.string() +
                           " --func loss --vmap --batch-size 2 --in-axes 0,none");
  ASSERT_EQ(vmap.status, 0) << vmap.err;
  const fs::path vmap_kir = write("vmap.kir", vmap.out);
  const std::string batched = input("x", "x25", {2, 5}, 5) + input("y", "y", {5}, 4);
  EXPECT_EQ(run(b.string(), "--func v" + batched, "bundle"),
            run(vmap_kir.string(), batched + " --device cpu", "jit"));
  // The manifest keeps how each entry was made.
  const Result inspect = kiln("bundle inspect " + b.string());
  EXPECT_NE(inspect.out.find("[grad:loss:wrt=0]"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("[vmap:loss:batch=2:in-axes=0,none]"), std::string::npos)
      << inspect.out;
}

TEST_F(KilnBundle, BindEqualsPassingTheInput) {
  const fs::path b = compile("--func f --target host --bind w=" + (dir_ / "w.npy").string());
  const std::string x = " --input x=" + (dir_ / "x43.npy").string();
  EXPECT_EQ(run(b.string(), x, "bundle"),
            run(program_.string(), f_inputs_ + " --device cpu", "jit"));
  // %w has left the signature.
  const Result r = kiln("run " + b.string() + f_inputs_ + " --output-dir " + (dir_ / "o").string());
  expect_one_line(r, "run", "w");
  EXPECT_FALSE(fs::exists(dir_ / "o" / "0.npy"));
}

TEST_F(KilnBundle, BadOptionsGiveOneCompileLine) {
  input("w", "wrong", {2, 3}, 6);
  const std::string p = program_.string(), out = " -o " + (dir_ / "bad.kbundle").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {p + " --target x86-64-v9", "unknown CPU target 'x86-64-v9'"},
      {p + " --target x86-64-v3,,vulkan", "an empty entry"},
      {p + " --entry g", "--entry g: expected NAME=MODE:FUNCTION"},
      {p + " --entry g=grad", "(a mode and a function)"},
      {p + " --entry g=hessian:loss", "unknown mode 'hessian'"},
      {p + " --entry g=grad:loss:axis=1", "unknown key 'axis'"},
      {p + " --entry g=grad:loss:wrt", "'wrt' is not key=value"},
      {p + " --entry g=vmap:loss", "--entry g=vmap:loss: "},
      {p + " --entry g=grad:nothing", "nothing"},
      {p + " --bind nope=" + (dir_ / "w.npy").string(),
       "no compiled function has a parameter %nope"},
      {p + " --bind w=" + (dir_ / "wrong.npy").string(),
       "@f's parameter %w is f32[3,2] but the file holds f32[2,3]"},
      {p + " --bind w=" + (dir_ / "missing.npy").string(), "missing.npy"},
      {p + " --bind w", "--bind w: expected PARAM=FILE.npy"},
      {(dir_ / "missing.kir").string(), "missing.kir"},
      {p + " --func f --entry f=grad:loss", "two functions are named @f"},
      {p + " --sign " + (dir_ / "missing.key").string(), "missing.key"},
      {p + " --sign " + (dir_ / "w.npy").string(), "not an Ed25519 secret key"},
      {p + " --func nothing", "--func nothing: "},
  };
  for (const auto& [args, fragment] : cases) {
    SCOPED_TRACE(args);
    const Result r = kiln("compile " + args + out);
    expect_one_line(r, "compile", fragment);
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir_ / "bad.kbundle"));
  }
}

TEST_F(KilnBundle, InspectNamesSectionsTargetsAndThePick) {
  KILN_REQUIRE_X86_64_V3();
  const fs::path b = compile("--func f --func loss --target x86-64-v3,x86-64-v4");
  const Result r = kiln("bundle inspect " + b.string());
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* section : {" manifest ", " ir ", " code ", " plan "})
    EXPECT_NE(r.out.find(section), std::string::npos) << section << " in\n" << r.out;
  __builtin_cpu_init();
  const std::string best = __builtin_cpu_supports("x86-64-v4") ? "x86-64-v4" : "x86-64-v3";
  EXPECT_NE(
      r.out.find("CPU targets (this machine's pick first):\n  " + best + ": runs here (picked)\n"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(count(r.out, "x86-64-v3: "), 3u) << "the target and both functions' variants\n"
                                             << r.out;
  EXPECT_NE(r.out.find("@f(x: f32[4,3], w: f32[3,2]) -> (result0: f32[4,2], result1: f32[4])"),
            std::string::npos)
      << r.out;
}

TEST_F(KilnBundle, ExtractedIrIsAcceptedAgain) {
  KILN_REQUIRE_X86_64_V3();
  const fs::path b = compile("--func loss --entry g=grad:loss");
  const Result source = kiln("bundle extract-ir " + b.string());
  ASSERT_EQ(source.status, 0) << source.err;
  EXPECT_EQ(kiln("dump " + write("source.kir", source.out).string()).out,
            kiln("dump " + program_.string()).out);
  const Result entry = kiln("bundle extract-ir " + b.string() + " --func g");
  ASSERT_EQ(entry.status, 0) << entry.err;
  const fs::path g = write("g.kir", entry.out);
  EXPECT_EQ(kiln("dump " + g.string()).status, 0);
  EXPECT_EQ(run(g.string(), loss_inputs_ + " --device cpu", "extracted"),
            run(b.string(), "--func g" + loss_inputs_, "bundle"));
  const Result again = kiln("compile " + g.string() + " -o " + (dir_ / "again.kbundle").string());
  EXPECT_EQ(again.status, 0) << again.err;
  expect_one_line(kiln("bundle extract-ir " + b.string() + " --func nothing"), "bundle",
                  "no function @nothing (it has @loss, @g)");
}

TEST_F(KilnBundle, VerifyChecksSignaturesAgainstTheKeysGiven) {
  ASSERT_EQ(kiln("bundle keygen " + (dir_ / "k").string()).status, 0);
  ASSERT_EQ(kiln("bundle keygen " + (dir_ / "other").string()).status, 0);
  const fs::path b = compile("--func f --sign " + (dir_ / "k.key").string());
  const fs::path plain = compile("--func f", "plain.kbundle");

  Result r = kiln("bundle verify " + b.string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(": ok (1 functions; signed by "), std::string::npos) << r.out;
  r = kiln("bundle verify " + b.string() + " --public-key " + (dir_ / "k.pub").string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(", trusted)"), std::string::npos) << r.out;
  expect_one_line(
      kiln("bundle verify " + b.string() + " --public-key " + (dir_ / "other.pub").string()),
      "bundle", "which is not among the trusted keys");
  expect_one_line(
      kiln("bundle verify " + plain.string() + " --public-key " + (dir_ / "k.pub").string()),
      "bundle", "it is not signed");
  expect_one_line(kiln("bundle verify " + plain.string() + " --require-signature"), "bundle",
                  "it is not signed");
  EXPECT_EQ(kiln("bundle verify " + plain.string()).status, 0);
}

TEST_F(KilnBundle, DamagedBundlesFailWithOneMessageAndNoOutput) {
  const std::string bytes = slurp(compile("--func f"));
  // A byte of the manifest, which starts right after the table (64 bytes of header, 64 per
  // section, the count a little-endian word at byte 32): not one of the padding bytes between
  // sections, which no digest covers (nothing reads them).
  std::string flipped = bytes;
  flipped[64 * (1 + static_cast<unsigned char>(bytes.at(32))) + 10] ^= 0x10;
  for (const auto& [name, damaged] :
       {std::pair{"truncated", bytes.substr(0, bytes.size() - 100)}, std::pair{"flipped", flipped},
        std::pair{"empty", std::string()}}) {
    SCOPED_TRACE(name);
    fs::remove_all(dir_ / "o");
    const fs::path bad = write(std::string(name) + ".kbundle", damaged);
    const Result r =
        kiln("run " + bad.string() + f_inputs_ + " --output-dir " + (dir_ / "o").string());
    expect_one_line(r, "bundle", bad.string());
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir_ / "o" / "0.npy"));
    const Result v = kiln("bundle verify " + bad.string());
    expect_one_line(v, "bundle", bad.string());
    EXPECT_EQ(v.out, "");
  }
}

TEST_F(KilnBundle, DotClustersAreTheKernels) {
  const Result opt = kiln("opt " + program_.string() + " --func loss --emit=dot --stats");
  ASSERT_EQ(opt.status, 0) << opt.err;
  EXPECT_EQ(opt.out.rfind("digraph", 0), 0u) << opt.out;
  const size_t kernels = std::stoul(opt.err.substr(opt.err.find("kernels: ") + 9));
  EXPECT_GT(kernels, 0u);
  EXPECT_EQ(count(opt.out, "subgraph cluster_"), kernels) << opt.out;

  const fs::path b = compile("--func f --func loss --target x86-64-v3");
  const Result dot = kiln("bundle inspect " + b.string() + " --dot --func loss");
  ASSERT_EQ(dot.status, 0) << dot.err;
  EXPECT_EQ(dot.out, opt.out);
  const Result unfused = kiln("opt " + program_.string() + " --func loss --emit=dot --no-fuse");
  EXPECT_GT(count(unfused.out, "subgraph cluster_"), kernels)
      << "one cluster per op without fusion";
}

}  // namespace
