#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (linked by -sanitize=fuzzer). SwiftPM links an executable's `main` as
// `<Module>_main`, so each target's entry point hands its callback to the driver itself.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
