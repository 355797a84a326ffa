/* The C API (kiln/runtime.h), compiled as C11: every function and every status a caller can
 * cause. KILN_INTERNAL is the one status no input reaches (it reports a bug in kiln).
 *
 * Usage: kiln_c_api_test DIR, where DIR holds the bundles run.sh compiles: plain.kbundle
 * (functions.kir for x86-64-v3 and x86-64-v4), signed.kbundle (the same, signed with
 * key.key / key.pub), other.pub (a key that did not sign it), vulkan.kbundle (Vulkan code
 * only) and huge.kbundle (huge.kir, --no-fuse). */
#include <kiln/runtime.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static char dir[4096];

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The call returns `want`, and a failure leaves a message that contains `text`. */
#define EXPECT_STATUS(call, want, text)                                                   \
  do {                                                                                    \
    kiln_status got_ = (call);                                                            \
    if (got_ != (want)) {                                                                 \
      fprintf(stderr, "%s:%d: %s gave %s (%s), expected %s\n", __FILE__, __LINE__, #call, \
              kiln_status_name(got_), kiln_last_error(), kiln_status_name(want));         \
      ++failures;                                                                         \
    } else if ((want) != KILN_OK && !strstr(kiln_last_error(), (text))) {                 \
      fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, __LINE__, #call,  \
              kiln_last_error(), (text));                                                 \
      ++failures;                                                                         \
    }                                                                                     \
  } while (0)

static const char* path(const char* name) {
  static char buffer[8192];
  snprintf(buffer, sizeof buffer, "%s/%s", dir, name);
  return buffer;
}

static unsigned char* read_all(const char* name, size_t* size) {
  FILE* f = fopen(path(name), "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path(name));
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char* data = malloc(*size);
  if (fread(data, 1, *size, f) != *size) exit(2);
  fclose(f);
  return data;
}

static void read_key(const char* name, uint8_t key[32]) {
  size_t size = 0;
  unsigned char* text = read_all(name, &size);
  for (int i = 0; i < 32; ++i) {
    unsigned v = 0;
    sscanf((const char*)text + 2 * i, "%2x", &v);
    key[i] = (uint8_t)v;
  }
  free(text);
}

static void test_statuses_and_runtime(void) {
  CHECK(strcmp(kiln_status_name(KILN_OK), "KILN_OK") == 0);
  CHECK(strcmp(kiln_status_name(KILN_INTERNAL), "KILN_INTERNAL") == 0);
  kiln_runtime* rt = NULL;
  EXPECT_STATUS(kiln_runtime_create(NULL, NULL), KILN_INVALID_ARGUMENT, "out is NULL");
  kiln_runtime_options bad = {0};
  EXPECT_STATUS(kiln_runtime_create(&bad, &rt), KILN_INVALID_ARGUMENT, "struct_size");
  CHECK(rt == NULL);
  kiln_runtime_options negative = {sizeof negative, -2, KILN_DEVICE_CPU, NULL, 0, 0};
  EXPECT_STATUS(kiln_runtime_create(&negative, &rt), KILN_INVALID_ARGUMENT, "num_threads");
  kiln_runtime_options keys = {sizeof keys, 0, KILN_DEVICE_CPU, NULL, 3, 0};
  EXPECT_STATUS(kiln_runtime_create(&keys, &rt), KILN_INVALID_ARGUMENT, "keys are NULL");
  kiln_runtime_options device = {sizeof device, 0, (kiln_device)7, NULL, 0, 0};
  EXPECT_STATUS(kiln_runtime_create(&device, &rt), KILN_INVALID_ARGUMENT, "unknown device");
  EXPECT_STATUS(kiln_runtime_create(NULL, &rt), KILN_OK, "");
  CHECK(rt != NULL);
  CHECK(strcmp(kiln_last_error(), "") == 0);
  kiln_runtime_destroy(rt);
  kiln_runtime_destroy(NULL);
}

static void test_open_errors(kiln_runtime* rt) {
  kiln_bundle* b = NULL;
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("missing.kbundle"), &b), KILN_IO_ERROR,
                "missing.kbundle");
  CHECK(b == NULL);
  EXPECT_STATUS(kiln_bundle_open_file(NULL, path("plain.kbundle"), &b), KILN_INVALID_ARGUMENT,
                "runtime is NULL");
  EXPECT_STATUS(kiln_bundle_open_file(rt, NULL, &b), KILN_INVALID_ARGUMENT, "path is NULL");
  EXPECT_STATUS(kiln_bundle_open_memory(rt, "not a bundle", 12, &b), KILN_CORRUPT_BUNDLE,
                "not a kiln bundle");
  size_t size = 0;
  unsigned char* bytes = read_all("plain.kbundle", &size);
  EXPECT_STATUS(kiln_bundle_open_memory(rt, bytes, size - 1, &b), KILN_CORRUPT_BUNDLE, "truncated");
  bytes[size / 2] ^= 0x40; /* inside some section: its digest no longer matches */
  EXPECT_STATUS(kiln_bundle_open_memory(rt, bytes, size, &b), KILN_CORRUPT_BUNDLE, "SHA-256");
  bytes[size / 2] ^= 0x40;
  bytes[8] = 2; /* format major 2 */
  EXPECT_STATUS(kiln_bundle_open_memory(rt, bytes, size, &b), KILN_VERSION_MISMATCH,
                "bundle format 2.0");
  bytes[8] = 1;
  EXPECT_STATUS(kiln_bundle_open_memory(rt, bytes, size, &b), KILN_OK, "");
  kiln_bundle_close(b);
  free(bytes);
  kiln_bundle_close(NULL);
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("vulkan.kbundle"), &b), KILN_UNSUPPORTED_TARGET,
                "no CPU code");
}

static void test_signatures(void) {
  uint8_t trusted[1][32], other[1][32];
  read_key("key.pub", trusted[0]);
  read_key("other.pub", other[0]);
  kiln_runtime_options options = {sizeof options, 0, KILN_DEVICE_CPU, trusted, 1, 1};
  kiln_runtime* rt = NULL;
  kiln_bundle* b = NULL;
  CHECK(kiln_runtime_create(&options, &rt) == KILN_OK);
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("signed.kbundle"), &b), KILN_OK, "");
  kiln_bundle_close(b);
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("plain.kbundle"), &b), KILN_SIGNATURE_ERROR,
                "not signed");
  kiln_runtime_destroy(rt);
  options.trusted_public_keys = other;
  CHECK(kiln_runtime_create(&options, &rt) == KILN_OK);
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("signed.kbundle"), &b), KILN_SIGNATURE_ERROR,
                "not among the trusted keys");
  kiln_runtime_destroy(rt);
}

static void test_inspection(kiln_bundle* b) {
  size_t count = 0;
  EXPECT_STATUS(kiln_bundle_function_count(b, &count), KILN_OK, "");
  CHECK(count == 2);
  EXPECT_STATUS(kiln_bundle_function_count(NULL, &count), KILN_INVALID_ARGUMENT, "bundle");
  const char* name = NULL;
  EXPECT_STATUS(kiln_bundle_function_name(b, 1, &name), KILN_OK, "");
  CHECK(name && strcmp(name, "scale") == 0);
  EXPECT_STATUS(kiln_bundle_function_name(b, 2, &name), KILN_NOT_FOUND, "index 2");
  const char* target = NULL;
  EXPECT_STATUS(kiln_bundle_target(b, &target), KILN_OK, "");
  CHECK(target && strncmp(target, "x86-64-v", 8) == 0);
  kiln_function* f = NULL;
  EXPECT_STATUS(kiln_bundle_find_function(b, "nope", &f), KILN_NOT_FOUND, "@affine, @scale");
  EXPECT_STATUS(kiln_bundle_find_function(b, "affine", &f), KILN_OK, "");
  size_t params = 0, results = 0;
  EXPECT_STATUS(kiln_function_signature(f, &params, &results), KILN_OK, "");
  CHECK(params == 3 && results == 1);
  kiln_tensor_desc desc;
  EXPECT_STATUS(kiln_function_param(f, 1, &desc), KILN_OK, "");
  CHECK(strcmp(desc.name, "w") == 0 && desc.dtype == KILN_F32 && desc.rank == 2 &&
        desc.shape[0] == 3 && desc.shape[1] == 2);
  EXPECT_STATUS(kiln_function_param(f, 3, &desc), KILN_NOT_FOUND, "no index 3");
  EXPECT_STATUS(kiln_function_result(f, 0, &desc), KILN_OK, "");
  CHECK(desc.rank == 2 && desc.shape[0] == 4 && desc.shape[1] == 2);
  EXPECT_STATUS(kiln_function_result(f, 1, &desc), KILN_NOT_FOUND, "1 results");
  EXPECT_STATUS(kiln_function_result(NULL, 0, &desc), KILN_INVALID_ARGUMENT, "function");
}

static const int64_t kX[] = {4, 3}, kW[] = {3, 2}, kB[] = {2}, kY[] = {4, 2};

static void expected_affine(const float* x, const float* w, const float* b, float* y) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j) {
      float acc = 0;
      for (int k = 0; k < 3; ++k)
        acc = fmaf(x[i * 3 + k], w[k * 2 + j], acc);
      y[i * 2 + j] = acc + b[j];
    }
}

static void test_calls(kiln_bundle* b) {
  kiln_function* f = NULL;
  CHECK(kiln_bundle_find_function(b, "affine", &f) == KILN_OK);
  _Alignas(64) float x[12], w[6], bias[2], y[8];
  /* Unaligned copies: one float past a 64-byte boundary. */
  _Alignas(64) float xu[13], yu[9];
  float want[8];
  for (int i = 0; i < 12; ++i)
    x[i] = xu[i + 1] = (float)(i % 5) * 0.25f - 0.5f;
  for (int i = 0; i < 6; ++i)
    w[i] = (float)i * 0.125f;
  bias[0] = 1.0f, bias[1] = -2.0f;
  expected_affine(x, w, bias, want);
  kiln_tensor in[3] = {{KILN_F32, 2, kX, x, sizeof x},
                       {KILN_F32, 2, kW, w, sizeof w},
                       {KILN_F32, 1, kB, bias, sizeof bias}};
  kiln_tensor out[1] = {{KILN_F32, 2, kY, y, sizeof y}};
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_OK, "");
  for (int i = 0; i < 8; ++i)
    CHECK(fabsf(y[i] - want[i]) <= 1e-6f * (1 + fabsf(want[i])));
  in[0].data = xu + 1;
  out[0].data = yu + 1;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_OK, "");
  CHECK(memcmp(yu + 1, y, sizeof y) == 0);
  in[0].data = x;
  out[0].data = y;

  EXPECT_STATUS(kiln_call(f, in, 2, out, 1), KILN_INVALID_ARGUMENT, "expected 3 inputs");
  in[1].dtype = KILN_F64;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_INVALID_ARGUMENT,
                "argument 1 (%w) has dtype f64");
  in[1].dtype = KILN_F32;
  const int64_t wrong[] = {2, 3};
  in[1].shape = wrong;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_INVALID_ARGUMENT,
                "argument 1 (%w) has shape [2,3]");
  in[1].shape = kW;
  in[2].size_bytes = 4;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_INVALID_ARGUMENT,
                "argument 2 (%b) has size_bytes 4");
  in[2].size_bytes = sizeof bias;
  in[2].data = NULL;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_INVALID_ARGUMENT, "no data");
  in[2].data = bias;
  out[0].data = x; /* the output would overwrite an input: refused */
  out[0].size_bytes = sizeof y;
  EXPECT_STATUS(kiln_call(f, in, 3, out, 1), KILN_INVALID_ARGUMENT, "overlaps argument 0 (%x)");
  out[0].data = y;
  EXPECT_STATUS(kiln_call(NULL, in, 3, out, 1), KILN_INVALID_ARGUMENT, "function is NULL");
}

struct worker {
  kiln_function* f;
  int ok;
};

static void* call_many(void* arg) {
  struct worker* w = arg;
  static const int64_t kN[] = {1000};
  _Alignas(64) float x[1000], y[1000], sum;
  for (int i = 0; i < 1000; ++i)
    x[i] = (float)i;
  w->ok = 1;
  for (int round = 0; round < 50; ++round) {
    kiln_tensor in[1] = {{KILN_F32, 1, kN, x, sizeof x}};
    kiln_tensor out[2] = {{KILN_F32, 1, kN, y, sizeof y}, {KILN_F32, 0, NULL, &sum, sizeof sum}};
    if (kiln_call(w->f, in, 1, out, 2) != KILN_OK) w->ok = 0;
    for (int i = 0; i < 1000; ++i)
      if (y[i] != 2.0f * (float)i + 1.0f) w->ok = 0;
    if (sum != 499500.0f) w->ok = 0;
  }
  return NULL;
}

static void test_threads(kiln_bundle* b) {
  kiln_function* f = NULL;
  CHECK(kiln_bundle_find_function(b, "scale", &f) == KILN_OK);
  pthread_t threads[4];
  struct worker workers[4];
  for (int t = 0; t < 4; ++t) {
    workers[t].f = f;
    pthread_create(&threads[t], NULL, call_many, &workers[t]);
  }
  for (int t = 0; t < 4; ++t) {
    pthread_join(threads[t], NULL);
    CHECK(workers[t].ok);
  }
}

/* The same function on the Vulkan device: skipped without one, unless KILN_REQUIRE_VULKAN=1
 * (CI, on lavapipe) makes that a failure. */
static void test_vulkan(void) {
  kiln_runtime_options options = {sizeof options, 0, KILN_DEVICE_VULKAN, NULL, 0, 0};
  kiln_runtime* rt = NULL;
  kiln_bundle* b = NULL;
  kiln_function* f = NULL;
  CHECK(kiln_runtime_create(&options, &rt) == KILN_OK);
  kiln_status status = kiln_bundle_open_file(rt, path("vulkan.kbundle"), &b);
  if (status == KILN_UNSUPPORTED_TARGET && strstr(kiln_last_error(), "[vulkan]")) {
    const char* require = getenv("KILN_REQUIRE_VULKAN");
    if (require && strcmp(require, "1") == 0) {
      fprintf(stderr, "no Vulkan device and KILN_REQUIRE_VULKAN=1: %s\n", kiln_last_error());
      ++failures;
    } else {
      printf("no Vulkan device: the Vulkan call is skipped\n");
    }
    kiln_runtime_destroy(rt);
    return;
  }
  EXPECT_STATUS(status, KILN_OK, "");
  const char* target = NULL;
  if (b && kiln_bundle_target(b, &target) == KILN_OK) CHECK(strcmp(target, "vulkan") == 0);
  if (b && kiln_bundle_find_function(b, "scale", &f) == KILN_OK) {
    struct worker w = {f, 0};
    call_many(&w);
    CHECK(w.ok);
  }
  kiln_bundle_close(b);
  /* A CPU-only bundle has nothing for a Vulkan runtime. */
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("plain.kbundle"), &b), KILN_UNSUPPORTED_TARGET,
                "no Vulkan code");
  kiln_runtime_destroy(rt);
}

static void test_out_of_memory(kiln_runtime* rt) {
  kiln_bundle* b = NULL;
  kiln_function* f = NULL;
  if (kiln_bundle_open_file(rt, path("huge.kbundle"), &b) != KILN_OK) {
    fprintf(stderr, "huge.kbundle: %s\n", kiln_last_error());
    ++failures;
    return;
  }
  CHECK(kiln_bundle_find_function(b, "huge", &f) == KILN_OK);
  _Alignas(64) float x = 1, y = 0;
  kiln_tensor in[1] = {{KILN_F32, 0, NULL, &x, sizeof x}};
  kiln_tensor out[1] = {{KILN_F32, 0, NULL, &y, sizeof y}};
  EXPECT_STATUS(kiln_call(f, in, 1, out, 1), KILN_OUT_OF_MEMORY, "memory");
  kiln_bundle_close(b);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  snprintf(dir, sizeof dir, "%s", argv[1]);
  test_statuses_and_runtime();
  kiln_runtime_options options = {sizeof options, 2, KILN_DEVICE_CPU, NULL, 0, 0};
  kiln_runtime* rt = NULL;
  CHECK(kiln_runtime_create(&options, &rt) == KILN_OK);
  test_open_errors(rt);
  test_signatures();
  kiln_bundle* b = NULL;
  EXPECT_STATUS(kiln_bundle_open_file(rt, path("plain.kbundle"), &b), KILN_OK, "");
  if (b) {
    test_inspection(b);
    test_calls(b);
    test_threads(b);
    kiln_bundle_close(b);
  }
  test_out_of_memory(rt);
  kiln_runtime_destroy(rt);
  test_vulkan();
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("C API: every check passed\n");
  return failures ? 1 : 0;
}
