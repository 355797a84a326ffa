/* Runs a function of an ahead-of-time bundle through kiln's C API, with no compiler and no
 * LLVM: the shape of a program that ships a model.
 *
 *   kiln compile model.kir -o model.kbundle
 *   kiln_run_bundle model.kbundle [FUNCTION]
 *
 * It prints the function's signature, calls it on inputs filled with a fixed pattern, and
 * prints each result's first values and its sum. Build it against an installed kiln with
 * `cc run_bundle.c $(pkg-config --cflags --libs kiln-runtime)`. */
#include <kiln/runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* dtype_name(kiln_dtype d) {
  static const char* names[] = {"bool", "i8",  "i16",  "i32", "i64", "u8",
                                "u32",  "f16", "bf16", "f32", "f64"};
  return d <= KILN_F64 ? names[d] : "?";
}

static size_t element_size(kiln_dtype d) {
  switch (d) {
    case KILN_BOOL:
    case KILN_I8:
    case KILN_U8:
      return 1;
    case KILN_I16:
    case KILN_F16:
    case KILN_BF16:
      return 2;
    case KILN_I32:
    case KILN_U32:
    case KILN_F32:
      return 4;
    case KILN_I64:
    case KILN_F64:
      return 8;
  }
  return 0;
}

static size_t count(const kiln_tensor_desc* d) {
  size_t n = 1;
  for (int32_t i = 0; i < d->rank; ++i)
    n *= (size_t)d->shape[i];
  return n;
}

static void print_desc(const kiln_tensor_desc* d) {
  printf("%s: %s[", d->name, dtype_name(d->dtype));
  for (int32_t i = 0; i < d->rank; ++i)
    printf(i ? ",%lld" : "%lld", (long long)d->shape[i]);
  printf("]");
}

/* Element i of a fixed pattern: floats in [-1, 1), small integers, alternating bools. Half
 * floats are left as zeros (C has no portable half type). */
static void fill(const kiln_tensor_desc* d, void* data) {
  size_t n = count(d);
  for (size_t i = 0; i < n; ++i) {
    double v = sin((double)i * 0.7);
    switch (d->dtype) {
      case KILN_F32:
        ((float*)data)[i] = (float)v;
        break;
      case KILN_F64:
        ((double*)data)[i] = v;
        break;
      case KILN_I32:
        ((int32_t*)data)[i] = (int32_t)(i % 7) - 3;
        break;
      case KILN_I64:
        ((int64_t*)data)[i] = (int64_t)(i % 7) - 3;
        break;
      case KILN_U32:
        ((uint32_t*)data)[i] = (uint32_t)(i % 7);
        break;
      case KILN_I8:
        ((int8_t*)data)[i] = (int8_t)(i % 7) - 3;
        break;
      case KILN_U8:
        ((uint8_t*)data)[i] = (uint8_t)(i % 7);
        break;
      case KILN_I16:
        ((int16_t*)data)[i] = (int16_t)(i % 7) - 3;
        break;
      case KILN_BOOL:
        ((uint8_t*)data)[i] = (uint8_t)(i % 2);
        break;
      case KILN_F16:
      case KILN_BF16:
        break;
    }
  }
}

static double value(kiln_dtype d, const void* data, size_t i) {
  switch (d) {
    case KILN_F32:
      return ((const float*)data)[i];
    case KILN_F64:
      return ((const double*)data)[i];
    case KILN_I32:
      return ((const int32_t*)data)[i];
    case KILN_I64:
      return (double)((const int64_t*)data)[i];
    case KILN_U32:
      return ((const uint32_t*)data)[i];
    case KILN_I8:
      return ((const int8_t*)data)[i];
    case KILN_U8:
    case KILN_BOOL:
      return ((const uint8_t*)data)[i];
    case KILN_I16:
      return ((const int16_t*)data)[i];
    case KILN_F16:
    case KILN_BF16:
      return NAN;
  }
  return NAN;
}

static int check(kiln_status status, const char* what) {
  if (status == KILN_OK) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, kiln_status_name(status), kiln_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s BUNDLE.kbundle [FUNCTION]\n", argv[0]);
    return 2;
  }
  kiln_runtime* runtime = NULL;
  kiln_bundle* bundle = NULL;
  kiln_function* function = NULL;
  if (check(kiln_runtime_create(NULL, &runtime), "kiln_runtime_create")) return 1;
  int failed = check(kiln_bundle_open_file(runtime, argv[1], &bundle), argv[1]);
  const char* name = argc == 3 ? argv[2] : NULL;
  if (!failed && !name) failed = check(kiln_bundle_function_name(bundle, 0, &name), argv[1]);
  if (!failed) failed = check(kiln_bundle_find_function(bundle, name, &function), argv[1]);
  size_t num_params = 0, num_results = 0;
  if (!failed) failed = check(kiln_function_signature(function, &num_params, &num_results), name);
  kiln_tensor* inputs = calloc(num_params + 1, sizeof *inputs);
  kiln_tensor* outputs = calloc(num_results + 1, sizeof *outputs);
  kiln_tensor_desc* descs = calloc(num_params + num_results + 1, sizeof *descs);
  if (!failed) {
    const char* target = NULL;
    kiln_bundle_target(bundle, &target);
    printf("@%s on %s: (", name, target);
    for (size_t i = 0; i < num_params + num_results; ++i) {
      kiln_tensor_desc* d = &descs[i];
      if (i < num_params)
        kiln_function_param(function, i, d);
      else
        kiln_function_result(function, i - num_params, d);
      if (i == num_params)
        printf(") -> (");
      else if (i > 0)
        printf(", ");
      print_desc(d);
      kiln_tensor* t = i < num_params ? &inputs[i] : &outputs[i - num_params];
      t->dtype = d->dtype;
      t->rank = d->rank;
      t->shape = d->shape;
      t->size_bytes = count(d) * element_size(d->dtype);
      t->data = calloc(t->size_bytes + 1, 1);
      if (i < num_params) fill(d, t->data);
    }
    printf(")\n");
    failed = check(kiln_call(function, inputs, num_params, outputs, num_results), "kiln_call");
  }
  for (size_t k = 0; !failed && k < num_results; ++k) {
    const kiln_tensor_desc* d = &descs[num_params + k];
    size_t n = count(d);
    double sum = 0;
    printf("%s:", d->name);
    for (size_t i = 0; i < n; ++i) {
      sum += value(d->dtype, outputs[k].data, i);
      if (i < 6) printf(" %g", value(d->dtype, outputs[k].data, i));
    }
    printf("%s  sum %.9g\n", n > 6 ? " ..." : "", sum);
  }
  for (size_t i = 0; i < num_params; ++i)
    free(inputs[i].data);
  for (size_t k = 0; k < num_results; ++k)
    free(outputs[k].data);
  free(inputs);
  free(outputs);
  free(descs);
  kiln_bundle_close(bundle);
  kiln_runtime_destroy(runtime);
  return failed;
}
