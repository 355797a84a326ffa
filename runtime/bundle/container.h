#pragma once
// The `.kbundle` container (runtime/bundle/FORMAT.md): a fixed header, a table of sections, each
// with its kind, flags, place, alignment and SHA-256, and an optional Ed25519 signature over the
// header and the table. This layer knows bytes, not meaning: the manifest (manifest.h) says
// what the sections hold.
//
// Reading never trusts the input: every size and offset is checked without overflow before it
// is used, sections may not overlap or leave the file, and every digest is checked before
// a section is handed out. Unknown optional sections are skipped; unknown required ones are
// refused (a newer kiln made the bundle and it cannot be read correctly without them).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/error.h"

namespace kiln::runtime::bundle {

inline constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'B', 'N', 'D', 'L'};
inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr size_t kHeaderBytes = 64;
inline constexpr size_t kSectionEntryBytes = 64;

// The end of every version refusal: which kiln makes a bundle this runtime reads.
extern const char* const kRebuildAdvice;

enum class SectionKind : uint32_t {
  Manifest = 1,   // UTF-8 JSON
  Code = 2,       // an x86-64 ET_DYN with one CPU target's kernels
  Plan = 3,       // one function variant's schedule (runtime/plan.h); Vulkan ones hold SPIR-V
  Ir = 4,         // .kir text
  Weights = 5,    // bound parameters, each 64-byte aligned
  Signature = 6,  // Ed25519 public key (32 bytes) and signature (64 bytes)
};
std::string_view section_kind_name(uint32_t kind);  // "manifest", ..., or "unknown"

inline constexpr uint32_t kSectionRequired = 1;  // a reader that does not know the kind refuses

using Digest = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;  // libsodium's Ed25519 secret key (seed + public)

Digest sha256(std::span<const std::byte> bytes);
std::string hex(std::span<const uint8_t> bytes);

// Why a bundle is refused, so that callers (the C API's statuses, `kiln` exit messages) can
// tell a damaged file from one made by a newer kiln or for another machine.
class BundleError : public Error {
 public:
  enum class Kind {
    Io,
    Corrupt,
    Version,
    UnsupportedTarget,
    Signature,
    NotFound,
    Argument,
    OutOfMemory
  };
  BundleError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct Section {
  uint32_t index = 0;  // in the section table
  uint32_t kind = 0;
  uint32_t flags = 0;
  uint32_t alignment = 1;
  std::span<const std::byte> bytes;  // into the container's bytes
  Digest digest{};
};

// What the writer is given: the bytes of each section, in file order.
struct SectionData {
  SectionKind kind;
  uint32_t flags = kSectionRequired;
  uint32_t alignment = 64;
  std::vector<std::byte> bytes;
};

struct Signer {
  SecretKey secret{};
};

// The whole file; deterministic (the same sections give the same bytes, signature included:
// Ed25519 signatures are deterministic).
std::vector<std::byte> write_container(std::span<const SectionData> sections,
                                       const Signer* signer = nullptr);

struct SignatureInfo {
  bool present = false;
  PublicKey key{};  // who signed, as the bundle says; trusted only if the caller pins it
  bool valid = false;
};

struct Container {
  uint16_t major = 0, minor = 0;
  std::vector<Section> sections;        // known kinds only, in file order
  std::vector<uint32_t> skipped_kinds;  // unknown optional sections
  SignatureInfo signature;
};

// Checks the header, the table, every section's place and digest, and the signature (when
// there is one: whether it verifies against the key it names). Throws BundleError naming
// `where` and the rule broken.
Container read_container(std::span<const std::byte> bytes, std::string_view where);

// Ed25519 keys for `kiln bundle keygen` and signing.
struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};
KeyPair generate_key_pair();
// Key files are hex text: 64 digits for a public key, 128 for a secret key, then a newline.
PublicKey parse_public_key(std::string_view text, std::string_view where);
SecretKey parse_secret_key(std::string_view text, std::string_view where);

}  // namespace kiln::runtime::bundle
