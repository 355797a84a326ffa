// Uses an installed kiln (examples/installed/CMakeLists.txt): traces a least-squares loss,
// differentiates it (kiln::value_and_grad), compiles the two together (kiln::compile), runs the
// result and checks it against values worked out by hand. Exit status 1 on a mismatch.

#include <kiln/ir/printer.h>
#include <kiln/kiln.h>

#include <cmath>
#include <cstdio>
#include <vector>

using kiln::Tensor;

namespace {

// Prints `values` under `name` and says whether they are `expected` (to f32 rounding).
bool check(const char* name, const std::vector<float>& values, const std::vector<float>& expected) {
  bool same = values.size() == expected.size();
  std::printf("%s:", name);
  for (size_t i = 0; i < values.size(); ++i) {
    std::printf(" %g", static_cast<double>(values[i]));
    same = same && i < expected.size() && std::fabs(values[i] - expected[i]) <= 1e-5f;
  }
  std::printf("%s\n", same ? "" : "   <- wrong");
  return same;
}

}  // namespace

int main() {
  // loss(w) = sum((x w)^2) with x = [[1, 0], [1, 1], [0, 2]] and w = [1, 2]:
  // x w = [1, 3, 4], so loss = 1 + 9 + 16 = 26 and d loss / d w = 2 x^T x w = [8, 22].
  Tensor x = Tensor({{1.0f, 0.0f}, {1.0f, 1.0f}, {0.0f, 2.0f}});
  Tensor w = Tensor({1.0f, 2.0f});
  auto loss = [&](Tensor weights) {
    Tensor y = kiln::matmul(x, weights);
    return kiln::sum(y * y);
  };
  auto loss_and_grad = [&](Tensor weights) { return kiln::value_and_grad(loss)(weights); };

  std::printf("%s\n", kiln::ir::print(kiln::trace(loss_and_grad, {w.type()})).c_str());

  auto step = kiln::compile(loss_and_grad);  // traced and compiled once per input type
  std::vector<Tensor> out = step(w);
  bool ok = check("loss", out[0].to_vector<float>(), {26.0f});
  ok = check("dloss/dw", out[1].to_vector<float>(), {8.0f, 22.0f}) && ok;

  // The same compiled code on new values: w = [-1, 0.5] gives x w = [-1, -0.5, 1],
  // loss = 2.25 and d loss / d w = 2 [-1.5, 1.5] = [-3, 3].
  out = step(Tensor({-1.0f, 0.5f}));
  ok = check("loss", out[0].to_vector<float>(), {2.25f}) && ok;
  ok = check("dloss/dw", out[1].to_vector<float>(), {-3.0f, 3.0f}) && ok;

  if (!ok) {
    std::fprintf(stderr,
                 "[install] kiln_installed_example: results differ from the expected values\n");
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
