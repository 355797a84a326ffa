#include "runtime/bundle/manifest.h"

#include <nlohmann/json.hpp>

#include "runtime/bundle/container.h"

namespace kiln::runtime::bundle {

namespace {

using nlohmann::json;

constexpr size_t kMaxRank = 64;

json tensor_json(const TensorDesc& t) {
  return {{"name", t.name},
          {"dtype", std::string(ir::dtype_name(t.type.dtype))},
          {"shape", t.type.shape}};
}

// Reads one manifest with the place of each field in its messages: "functions[1].params[0]".
class Reader {
 public:
  Reader(std::string where) : where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& rule) const {
    throw BundleError(BundleError::Kind::Corrupt,
                      "[bundle] " + where_ + ": manifest: " + path + ": " + rule);
  }
  const json& field(const json& object, const std::string& path, const char* key) const {
    if (!object.is_object()) fail(path, "is not an object");
    auto it = object.find(key);
    if (it == object.end()) fail(path, std::string("lacks \"") + key + "\"");
    return *it;
  }
  std::string string(const json& object, const std::string& path, const char* key) const {
    const json& v = field(object, path, key);
    if (!v.is_string()) fail(path + "." + key, "is not a string");
    return v.get<std::string>();
  }
  uint64_t number(const json& object, const std::string& path, const char* key,
                  uint64_t max = UINT32_MAX) const {
    const json& v = field(object, path, key);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
      fail(path + "." + key, "is not a whole number up to " + std::to_string(max));
    return v.get<uint64_t>();
  }
  const json& array(const json& object, const std::string& path, const char* key) const {
    const json& v = field(object, path, key);
    if (!v.is_array()) fail(path + "." + key, "is not an array");
    return v;
  }
  ir::TensorType type(const json& object, const std::string& path) const {
    ir::TensorType t;
    const std::string dtype = string(object, path, "dtype");
    std::optional<ir::DType> d = ir::parse_dtype(dtype);
    if (!d) fail(path + ".dtype", "unknown dtype '" + dtype + "'");
    t.dtype = *d;
    const json& shape = array(object, path, "shape");
    if (shape.size() > kMaxRank) fail(path + ".shape", "rank over 64");
    for (const json& dim : shape) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t{INT64_MAX})
        fail(path + ".shape", "a dimension is not a whole number");
      t.shape.push_back(dim.get<int64_t>());
    }
    if (!ir::checked_num_elements(t.shape) || *ir::checked_num_elements(t.shape) > INT64_MAX / 8)
      fail(path + ".shape", "a tensor too large to exist");
    return t;
  }
  std::vector<TensorDesc> tensors(const json& object, const std::string& path,
                                  const char* key) const {
    std::vector<TensorDesc> out;
    const json& list = array(object, path, key);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = path + "." + key + "[" + std::to_string(i) + "]";
      out.push_back({string(list[i], at, "name"), type(list[i], at)});
    }
    return out;
  }

 private:
  std::string where_;
};

}  // namespace

std::string write_manifest(const Manifest& m) {
  json functions = json::array();
  for (const FunctionInfo& f : m.functions) {
    json params = json::array(), results = json::array(), bound = json::array(),
         variants = json::array();
    for (const TensorDesc& t : f.params)
      params.push_back(tensor_json(t));
    for (const TensorDesc& t : f.results)
      results.push_back(tensor_json(t));
    for (const BoundWeight& b : f.bound)
      bound.push_back({{"param", b.param}, {"weight", b.weight}});
    for (const Variant& v : f.variants)
      variants.push_back({{"target", v.target}, {"plan_section", v.plan_section}});
    functions.push_back({{"name", f.name},
                         {"origin", f.origin},
                         {"params", params},
                         {"results", results},
                         {"bound_weights", bound},
                         {"ir_section", f.ir_section},
                         {"variants", variants}});
  }
  json targets = json::array();
  for (const CpuTargetInfo& t : m.cpu_targets) {
    targets.push_back({{"name", t.name}, {"description", t.description}});
    if (t.code_section) targets.back()["code_section"] = *t.code_section;
  }
  json weights = json::array();
  for (const WeightInfo& w : m.weights)
    weights.push_back({{"name", w.name},
                       {"dtype", std::string(ir::dtype_name(w.type.dtype))},
                       {"shape", w.type.shape},
                       {"offset", w.offset}});
  json out = {{"format", "kiln-bundle"},
              {"manifest_version", m.manifest_version},
              {"kiln_version", m.kiln_version},
              {"kernel_imports_version", m.kernel_imports_version},
              {"vulkan_abi_version", m.vulkan_abi_version},
              {"vulkan_profile", m.vulkan_profile},
              {"options", m.options},
              {"source_ir_section", m.source_ir_section},
              {"cpu_targets", targets},
              {"functions", functions},
              {"weights", weights}};
  if (m.weights_section) out["weights_section"] = *m.weights_section;
  return out.dump(1);
}

Manifest read_manifest(std::span<const std::byte> bytes, std::string_view where) {
  Reader r{std::string(where)};
  json j;
  try {
    j = json::parse(reinterpret_cast<const char*>(bytes.data()),
                    reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const json::exception& e) {
    r.fail("(top)", std::string("not JSON: ") + e.what());
  }
  Manifest m;
  if (r.string(j, "(top)", "format") != "kiln-bundle") r.fail("format", "is not \"kiln-bundle\"");
  m.manifest_version = static_cast<uint32_t>(r.number(j, "(top)", "manifest_version"));
  if (m.manifest_version != kManifestVersion)
    throw BundleError(BundleError::Kind::Version,
                      "[bundle] " + std::string(where) + ": manifest version " +
                          std::to_string(m.manifest_version) + ", this runtime reads version " +
                          std::to_string(kManifestVersion) + kRebuildAdvice);
  m.kiln_version = r.string(j, "(top)", "kiln_version");
  m.kernel_imports_version = static_cast<uint32_t>(r.number(j, "(top)", "kernel_imports_version"));
  m.vulkan_abi_version = static_cast<uint32_t>(r.number(j, "(top)", "vulkan_abi_version"));
  m.vulkan_profile = r.string(j, "(top)", "vulkan_profile");
  for (const json& o : r.array(j, "(top)", "options")) {
    if (!o.is_string()) r.fail("options", "holds a non-string");
    m.options.push_back(o.get<std::string>());
  }
  m.source_ir_section = static_cast<uint32_t>(r.number(j, "(top)", "source_ir_section"));
  if (j.contains("weights_section"))
    m.weights_section = static_cast<uint32_t>(r.number(j, "(top)", "weights_section"));
  const json& targets = r.array(j, "(top)", "cpu_targets");
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string at = "cpu_targets[" + std::to_string(i) + "]";
    CpuTargetInfo t{r.string(targets[i], at, "name"), r.string(targets[i], at, "description"),
                    std::nullopt};
    if (targets[i].contains("code_section"))
      t.code_section = static_cast<uint32_t>(r.number(targets[i], at, "code_section"));
    for (const CpuTargetInfo& other : m.cpu_targets)
      if (other.name == t.name) r.fail(at + ".name", "'" + t.name + "' appears twice");
    m.cpu_targets.push_back(std::move(t));
  }
  const json& weights = r.array(j, "(top)", "weights");
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string at = "weights[" + std::to_string(i) + "]";
    WeightInfo w{r.string(weights[i], at, "name"), r.type(weights[i], at),
                 r.number(weights[i], at, "offset", UINT64_MAX)};
    if (w.offset % 64 != 0) r.fail(at + ".offset", "is not a multiple of 64");
    m.weights.push_back(std::move(w));
  }
  const json& functions = r.array(j, "(top)", "functions");
  for (size_t i = 0; i < functions.size(); ++i) {
    const std::string at = "functions[" + std::to_string(i) + "]";
    const json& fj = functions[i];
    FunctionInfo f;
    f.name = r.string(fj, at, "name");
    if (f.name.empty()) r.fail(at + ".name", "is empty");
    for (const FunctionInfo& other : m.functions)
      if (other.name == f.name) r.fail(at + ".name", "'" + f.name + "' appears twice");
    f.origin = r.string(fj, at, "origin");
    f.params = r.tensors(fj, at, "params");
    f.results = r.tensors(fj, at, "results");
    const json& bound = r.array(fj, at, "bound_weights");
    for (size_t b = 0; b < bound.size(); ++b) {
      const std::string bat = at + ".bound_weights[" + std::to_string(b) + "]";
      BoundWeight w{static_cast<uint32_t>(r.number(bound[b], bat, "param")),
                    static_cast<uint32_t>(r.number(bound[b], bat, "weight"))};
      if (w.weight >= m.weights.size()) r.fail(bat + ".weight", "names a missing weight");
      if (w.param > f.params.size() + b || (b > 0 && w.param <= f.bound[b - 1].param))
        r.fail(bat + ".param", "is out of order or range");
      f.bound.push_back(w);
    }
    f.ir_section = static_cast<uint32_t>(r.number(fj, at, "ir_section"));
    const json& variants = r.array(fj, at, "variants");
    for (size_t v = 0; v < variants.size(); ++v) {
      const std::string vat = at + ".variants[" + std::to_string(v) + "]";
      f.variants.push_back({r.string(variants[v], vat, "target"),
                            static_cast<uint32_t>(r.number(variants[v], vat, "plan_section"))});
    }
    m.functions.push_back(std::move(f));
  }
  return m;
}

}  // namespace kiln::runtime::bundle
