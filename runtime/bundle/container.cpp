#include "runtime/bundle/container.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace kiln::runtime::bundle {

const char* const kRebuildAdvice =
    "; compile it again with `kiln compile` of kiln " KILN_VERSION " (this runtime's version)";

namespace {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw Error("[bundle] libsodium failed to initialize");
  });
}

template <typename T>
void put(std::vector<std::byte>& out, size_t at, T value) {
  std::memcpy(out.data() + at, &value, sizeof value);  // little endian, as every kiln target
}

template <typename T>
T get(std::span<const std::byte> in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof value);
  return value;
}

constexpr uint32_t kSignatureBytes = crypto_sign_PUBLICKEYBYTES + crypto_sign_BYTES;

// Header: magic, major, minor, header size, file size, table offset, section count, flags,
// zero padding to 64 bytes. Entry: kind, flags, offset, size, alignment, zero, SHA-256.
void write_header(std::vector<std::byte>& out, uint64_t table_offset, uint32_t count) {
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put<uint16_t>(out, 8, kFormatMajor);
  put<uint16_t>(out, 10, kFormatMinor);
  put<uint32_t>(out, 12, kHeaderBytes);
  put<uint64_t>(out, 16, out.size());
  put<uint64_t>(out, 24, table_offset);
  put<uint32_t>(out, 32, count);
  put<uint32_t>(out, 36, 0);
}

void write_entry(std::vector<std::byte>& out, size_t at, uint32_t kind, uint32_t flags,
                 uint64_t offset, uint64_t size, uint32_t alignment, const Digest& digest) {
  put<uint32_t>(out, at, kind);
  put<uint32_t>(out, at + 4, flags);
  put<uint64_t>(out, at + 8, offset);
  put<uint64_t>(out, at + 16, size);
  put<uint32_t>(out, at + 24, alignment);
  put<uint32_t>(out, at + 28, 0);
  std::memcpy(out.data() + at + 32, digest.data(), digest.size());
}

// What a signature covers: the header and every table entry but the signature's own. Each
// entry holds its section's SHA-256, so this covers every byte that means anything.
std::vector<std::byte> signed_message(std::span<const std::byte> file, uint64_t table_offset,
                                      uint32_t count) {
  std::vector<std::byte> message(file.begin(), file.begin() + kHeaderBytes);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = table_offset + size_t{i} * kSectionEntryBytes;
    if (get<uint32_t>(file, at) == static_cast<uint32_t>(SectionKind::Signature)) continue;
    message.insert(message.end(), file.begin() + at, file.begin() + at + kSectionEntryBytes);
  }
  return message;
}

uint8_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
  return 0xff;
}

template <size_t N>
std::array<uint8_t, N> parse_key(std::string_view text, std::string_view where,
                                 std::string_view what) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  std::array<uint8_t, N> key{};
  bool ok = text.size() == 2 * N;
  for (size_t i = 0; ok && i < N; ++i) {
    const uint8_t high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
    ok = high < 16 && low < 16;
    key[i] = static_cast<uint8_t>(high << 4 | low);
  }
  if (!ok)
    throw BundleError(BundleError::Kind::Argument,
                      "[bundle] " + std::string(where) + ": not an Ed25519 " + std::string(what) +
                          " (expected " + std::to_string(2 * N) + " hex digits)");
  return key;
}

}  // namespace

std::string_view section_kind_name(uint32_t kind) {
  switch (kind) {
    case static_cast<uint32_t>(SectionKind::Manifest):
      return "manifest";
    case static_cast<uint32_t>(SectionKind::Code):
      return "code";
    case static_cast<uint32_t>(SectionKind::Plan):
      return "plan";
    case static_cast<uint32_t>(SectionKind::Ir):
      return "ir";
    case static_cast<uint32_t>(SectionKind::Weights):
      return "weights";
    case static_cast<uint32_t>(SectionKind::Signature):
      return "signature";
  }
  return "unknown";
}

Digest sha256(std::span<const std::byte> bytes) {
  init_sodium();
  Digest digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return digest;
}

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::vector<std::byte> write_container(std::span<const SectionData> sections,
                                       const Signer* signer) {
  const uint32_t count = static_cast<uint32_t>(sections.size() + (signer ? 1 : 0));
  const uint64_t table_offset = kHeaderBytes;
  std::vector<std::byte> out(kHeaderBytes + size_t{count} * kSectionEntryBytes);
  auto place = [&](uint32_t alignment) {
    out.resize((out.size() + alignment - 1) / alignment * alignment);
    return out.size();
  };
  for (size_t i = 0; i < sections.size(); ++i) {
    const SectionData& s = sections[i];
    const size_t offset = place(s.alignment);
    out.insert(out.end(), s.bytes.begin(), s.bytes.end());
    write_entry(out, table_offset + i * kSectionEntryBytes, static_cast<uint32_t>(s.kind), s.flags,
                offset, s.bytes.size(), s.alignment, sha256(s.bytes));
  }
  if (!signer) {
    write_header(out, table_offset, count);
    return out;
  }
  const size_t offset = place(64);
  out.resize(offset + kSignatureBytes);
  // The header's file size and the signature's entry (all but its digest) are final before
  // signing; the digest is not signed, so it is written last.
  write_header(out, table_offset, count);
  const size_t entry = table_offset + sections.size() * kSectionEntryBytes;
  write_entry(out, entry, static_cast<uint32_t>(SectionKind::Signature), 0, offset, kSignatureBytes,
              64, Digest{});
  const std::vector<std::byte> message = signed_message(out, table_offset, count);
  auto* key = reinterpret_cast<unsigned char*>(out.data() + offset);
  std::memcpy(key, signer->secret.data() + 32, crypto_sign_PUBLICKEYBYTES);
  init_sodium();
  crypto_sign_detached(key + crypto_sign_PUBLICKEYBYTES, nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       signer->secret.data());
  const Digest digest = sha256(std::span(out).subspan(offset, kSignatureBytes));
  std::memcpy(out.data() + entry + 32, digest.data(), digest.size());
  return out;
}

Container read_container(std::span<const std::byte> bytes, std::string_view where) {
  const std::string place = "[bundle] " + std::string(where) + ": ";
  auto corrupt = [&](const std::string& rule) {
    return BundleError(BundleError::Kind::Corrupt, place + rule);
  };
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw corrupt(bytes.size() < sizeof kMagic ||
                          std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0
                      ? "not a kiln bundle (no KILNBNDL magic)"
                      : "the file ends inside the header");
  Container c;
  c.major = get<uint16_t>(bytes, 8);
  c.minor = get<uint16_t>(bytes, 10);
  if (c.major != kFormatMajor)
    throw BundleError(BundleError::Kind::Version,
                      place + "bundle format " + std::to_string(c.major) + "." +
                          std::to_string(c.minor) + ", this runtime reads format " +
                          std::to_string(kFormatMajor) + ".0 to " + std::to_string(kFormatMajor) +
                          "." + std::to_string(kFormatMinor) + kRebuildAdvice);
  if (get<uint32_t>(bytes, 12) != kHeaderBytes) throw corrupt("the header size is not 64");
  if (get<uint64_t>(bytes, 16) != bytes.size())
    throw corrupt("the header says " + std::to_string(get<uint64_t>(bytes, 16)) +
                  " bytes, the file has " + std::to_string(bytes.size()) +
                  " (truncated or extended)");
  const uint64_t table_offset = get<uint64_t>(bytes, 24);
  const uint32_t count = get<uint32_t>(bytes, 32);
  if (get<uint32_t>(bytes, 36) != 0) throw corrupt("unknown header flags");
  for (size_t i = 40; i < kHeaderBytes; ++i)
    if (bytes[i] != std::byte{0}) throw corrupt("the header's reserved bytes are not zero");
  // The table follows the header directly: bytes between them would be covered by nothing.
  if (table_offset != kHeaderBytes) throw corrupt("the section table does not follow the header");
  if (count > (bytes.size() - table_offset) / kSectionEntryBytes)
    throw corrupt("the section table lies outside the file");
  const uint64_t table_end = table_offset + uint64_t{count} * kSectionEntryBytes;

  struct Extent {
    uint64_t begin, end;
    uint32_t index;
  };
  std::vector<Extent> extents;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = table_offset + size_t{i} * kSectionEntryBytes;
    const std::string section = "section " + std::to_string(i);
    Section s;
    s.index = i;
    s.kind = get<uint32_t>(bytes, at);
    s.flags = get<uint32_t>(bytes, at + 4);
    const uint64_t offset = get<uint64_t>(bytes, at + 8), size = get<uint64_t>(bytes, at + 16);
    s.alignment = get<uint32_t>(bytes, at + 24);
    std::memcpy(s.digest.data(), bytes.data() + at + 32, s.digest.size());
    if (get<uint32_t>(bytes, at + 28) != 0) throw corrupt(section + ": reserved bytes not zero");
    if ((s.flags & ~kSectionRequired) != 0) throw corrupt(section + ": unknown flags");
    if (s.alignment == 0 || (s.alignment & (s.alignment - 1)) != 0 || s.alignment > 65536)
      throw corrupt(section + ": alignment " + std::to_string(s.alignment) +
                    " is not a power of two up to 65536");
    if (offset < table_end || offset > bytes.size() || size > bytes.size() - offset)
      throw corrupt(section + " (" + std::string(section_kind_name(s.kind)) +
                    ") lies outside the file");
    if (offset % s.alignment != 0)
      throw corrupt(section + ": offset " + std::to_string(offset) + " is not aligned to " +
                    std::to_string(s.alignment));
    extents.push_back({offset, offset + size, i});
    s.bytes = bytes.subspan(offset, size);
    if (sha256(s.bytes) != s.digest)
      throw corrupt(section + " (" + std::string(section_kind_name(s.kind)) +
                    "): its SHA-256 does not match (the file is damaged)");
    if (section_kind_name(s.kind) == "unknown") {
      if (s.flags & kSectionRequired)
        throw BundleError(BundleError::Kind::Version,
                          place + section + " has kind " + std::to_string(s.kind) +
                              ", which this runtime does not know and the bundle requires "
                              "(made by a newer kiln: format " +
                              std::to_string(c.major) + "." + std::to_string(c.minor) +
                              ", this runtime reads up to " + std::to_string(kFormatMajor) + "." +
                              std::to_string(kFormatMinor) + ")");
      c.skipped_kinds.push_back(s.kind);
      continue;
    }
    if (s.kind == static_cast<uint32_t>(SectionKind::Signature)) {
      if (c.signature.present) throw corrupt("more than one signature section");
      if (size != kSignatureBytes) throw corrupt(section + ": a signature is 96 bytes");
      c.signature.present = true;
      const auto* data = reinterpret_cast<const unsigned char*>(s.bytes.data());
      std::memcpy(c.signature.key.data(), data, c.signature.key.size());
      const std::vector<std::byte> message = signed_message(bytes, table_offset, count);
      init_sodium();
      c.signature.valid =
          crypto_sign_verify_detached(data + crypto_sign_PUBLICKEYBYTES,
                                      reinterpret_cast<const unsigned char*>(message.data()),
                                      message.size(), data) == 0;
      continue;
    }
    c.sections.push_back(s);
  }
  // Empty sections occupy nothing (one may share its offset with the next section).
  std::erase_if(extents, [](const Extent& e) { return e.begin == e.end; });
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < extents.size(); ++i)
    if (extents[i].begin < extents[i - 1].end)
      throw corrupt("sections " + std::to_string(extents[i - 1].index) + " and " +
                    std::to_string(extents[i].index) + " overlap");
  // Bytes no digest covers (padding between sections) must be zero, so that no byte of the
  // file can change unnoticed.
  uint64_t covered = table_end;
  for (const Extent& e : extents) {
    for (uint64_t at = covered; at < e.begin; ++at)
      if (bytes[at] != std::byte{0})
        throw corrupt("byte " + std::to_string(at) + ", padding before section " +
                      std::to_string(e.index) + ", is not zero");
    covered = std::max(covered, e.end);
  }
  for (uint64_t at = covered; at < bytes.size(); ++at)
    if (bytes[at] != std::byte{0})
      throw corrupt("byte " + std::to_string(at) + ", after the last section, is not zero");
  return c;
}

KeyPair generate_key_pair() {
  init_sodium();
  KeyPair pair;
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

PublicKey parse_public_key(std::string_view text, std::string_view where) {
  return parse_key<32>(text, where, "public key");
}

SecretKey parse_secret_key(std::string_view text, std::string_view where) {
  return parse_key<64>(text, where, "secret key");
}

}  // namespace kiln::runtime::bundle
