/* kiln's runtime C API: open ahead-of-time bundles (`kiln compile` makes them) and call their
 * functions, with no compiler and no LLVM. Plain C11; no C++ type or exception crosses it.
 *
 * Link with -lkiln_rt (pkg-config kiln-runtime, or CMake's kiln::runtime).
 *
 * Every call returns a kiln_status; on failure kiln_last_error() gives this thread's message,
 * which names the file, the function or argument, and the rule broken. Nothing here aborts
 * the caller's process.
 *
 * Opening a bundle is running code: its checksums catch damage, not tampering. To trust only
 * bundles you made, sign them (`kiln compile --sign`) and pin your public keys in
 * kiln_runtime_options.
 *
 * Lifetimes: a kiln_bundle must be closed before its kiln_runtime is destroyed; kiln_function
 * handles and every string or shape pointer they give out live until their bundle is closed.
 */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_RUNTIME_API_VERSION 1

typedef enum {
  KILN_OK = 0,
  KILN_INVALID_ARGUMENT,   /* a null pointer, a wrong count, dtype, shape or size */
  KILN_NOT_FOUND,          /* no such function, or index out of range */
  KILN_IO_ERROR,           /* the file cannot be read */
  KILN_CORRUPT_BUNDLE,     /* damaged or malformed: a digest, an offset, the code object */
  KILN_VERSION_MISMATCH,   /* made by a kiln whose format or ABI this runtime does not read */
  KILN_UNSUPPORTED_TARGET, /* no code for this CPU (features named) or no Vulkan device */
  KILN_SIGNATURE_ERROR,    /* unsigned where a signature is required, untrusted or invalid */
  KILN_OUT_OF_MEMORY,
  KILN_INTERNAL
} kiln_status;

typedef enum {
  KILN_BOOL,
  KILN_I8,
  KILN_I16,
  KILN_I32,
  KILN_I64,
  KILN_U8,
  KILN_U32,
  KILN_F16,
  KILN_BF16,
  KILN_F32,
  KILN_F64
} kiln_dtype;

typedef enum { KILN_DEVICE_CPU = 0, KILN_DEVICE_VULKAN = 1 } kiln_device;

/* A parameter or result of a function. `name` and `shape` live until the bundle closes. */
typedef struct {
  const char* name;
  kiln_dtype dtype;
  int32_t rank;
  const int64_t* shape;
} kiln_tensor_desc;

/* An argument or a result buffer: dtype, rank, shape and size_bytes must match the function's
 * signature exactly. Any alignment works; 64-byte-aligned data is used without a copy. */
typedef struct {
  kiln_dtype dtype;
  int32_t rank;
  const int64_t* shape;
  void* data;
  size_t size_bytes;
} kiln_tensor;

typedef struct {
  size_t struct_size;  /* sizeof(kiln_runtime_options): lets the struct grow compatibly */
  int32_t num_threads; /* CPU threads for kernels; 0: the process's shared pool (all cores, or
                          KILN_NUM_THREADS) */
  kiln_device device;
  const uint8_t (*trusted_public_keys)[32]; /* Ed25519 keys (kiln bundle keygen's .pub) */
  size_t num_trusted_public_keys;
  int32_t require_signature; /* nonzero: refuse bundles without a valid trusted signature;
                                trusted keys imply it */
} kiln_runtime_options;

typedef struct kiln_runtime kiln_runtime;
typedef struct kiln_bundle kiln_bundle;
typedef struct kiln_function kiln_function;

/* This thread's message for its last failed call ("" if none). Valid until its next call. */
const char* kiln_last_error(void);
const char* kiln_status_name(kiln_status status); /* "KILN_OK", ... */

/* `options` may be NULL (defaults: the shared pool, the CPU, no keys). */
kiln_status kiln_runtime_create(const kiln_runtime_options* options, kiln_runtime** out);
void kiln_runtime_destroy(kiln_runtime* runtime);

kiln_status kiln_bundle_open_file(kiln_runtime* runtime, const char* path, kiln_bundle** out);
/* Copies the bytes: the caller may free them once this returns. */
kiln_status kiln_bundle_open_memory(kiln_runtime* runtime, const void* data, size_t size,
                                    kiln_bundle** out);
void kiln_bundle_close(kiln_bundle* bundle);

kiln_status kiln_bundle_function_count(const kiln_bundle* bundle, size_t* out);
kiln_status kiln_bundle_function_name(const kiln_bundle* bundle, size_t index, const char** out);
kiln_status kiln_bundle_find_function(kiln_bundle* bundle, const char* name, kiln_function** out);
/* The CPU target whose code runs ("x86-64-v4", "host") or "vulkan". */
kiln_status kiln_bundle_target(const kiln_bundle* bundle, const char** out);

kiln_status kiln_function_signature(const kiln_function* function, size_t* num_params,
                                    size_t* num_results);
kiln_status kiln_function_param(const kiln_function* function, size_t i, kiln_tensor_desc* out);
kiln_status kiln_function_result(const kiln_function* function, size_t i, kiln_tensor_desc* out);

/* Runs the function. Thread-safe: any number of threads may call at once. Checks the count,
 * dtype, shape and byte size of every tensor; outputs are caller-provided buffers of exactly
 * the result's size that must not overlap any input or each other. */
kiln_status kiln_call(kiln_function* function, const kiln_tensor* inputs, size_t num_inputs,
                      kiln_tensor* outputs, size_t num_outputs);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
