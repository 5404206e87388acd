/* A hand-off of a training-enabled ONNX Runtime's C API to the engine's tests.
 *
 * The only training-enabled ONNX Runtime that can be installed here is the last PyPI
 * `onnxruntime-training` (1.19.2). It links the C API statically into its Python extension,
 * which exports nothing but PyInit_*, so `OrtGetApiBase` cannot be looked up. The test therefore:
 *
 * 1. imports the wheel in an embedded CPython and has ONNX Runtime load this file as a custom-op
 *    library. ONNX Runtime hands every such library its `OrtApiBase` (`RegisterCustomOps`, the
 *    documented extension point); this file records where that struct lies in the runtime's
 *    file (its offset from the load address, from dladdr).
 * 2. That copy of the runtime cannot serve the engine: the Python module made the process's one
 *    default logging manager for it, so `CreateEnv` fails there. So `OrtGetApiBase` below loads
 *    a second, private copy of the same file (RUNTIME_COPY beside this library, a byte-identical
 *    copy with its own inode, which the dynamic loader maps as a separate object with its own
 *    statics) and returns the `OrtApiBase` at the same offset in it. It checks that both copies
 *    report the same version.
 *
 * The engine then loads this file by path, as it would the Android or iOS training package's
 * libonnxruntime. Before the hand-off, or without the copy, it serves a runtime that reports
 * version 0.0.0 and no API, which the engine refuses with a reason.
 *
 * Built by tests/tools/fetch_onnxruntime_training; test-only, never shipped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RUNTIME_COPY "onnxruntime-training-c-api.so"

typedef struct OrtApiBase {
  const void *(*GetApi)(unsigned version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

static const void *no_api(unsigned version) {
  (void)version;
  return NULL;
}

static const char *no_version(void) { return "0.0.0 (no ONNX Runtime has handed over its API)"; }

static const OrtApiBase none = {no_api, no_version};
static const OrtApiBase *handed;
static uintptr_t offset;
static const OrtApiBase *private_base;

/* Called by ONNX Runtime when a session options object registers this library. Registers no
 * operator; returns NULL, ONNX Runtime's "no error" status. */
void *RegisterCustomOps(void *options, const OrtApiBase *api_base) {
  Dl_info info;
  (void)options;
  if (api_base && dladdr(api_base, &info) && info.dli_fbase) {
    handed = api_base;
    offset = (uintptr_t)api_base - (uintptr_t)info.dli_fbase;
  }
  return NULL;
}

const OrtApiBase *OrtGetApiBase(void) {
  Dl_info self, runtime;
  char path[4096];
  const char *slash;
  void *copy, *entry;
  const OrtApiBase *base;
  if (private_base) return private_base;
  if (!handed || !dladdr((void *)&OrtGetApiBase, &self) || !self.dli_fname) return &none;
  slash = strrchr(self.dli_fname, '/');
  if (!slash) return &none;
  snprintf(path, sizeof path, "%.*s/%s", (int)(slash - self.dli_fname), self.dli_fname, RUNTIME_COPY);
  copy = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!copy) return &none;
  entry = dlsym(copy, "PyInit_onnxruntime_pybind11_state");
  if (!entry || !dladdr(entry, &runtime) || !runtime.dli_fbase) return &none;
  base = (const OrtApiBase *)((uintptr_t)runtime.dli_fbase + offset);
  if (strcmp(base->GetVersionString(), handed->GetVersionString()) != 0) return &none;
  private_base = base;
  return private_base;
}
