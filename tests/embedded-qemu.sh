#!/usr/bin/env bash
# tests/embedded-qemu.sh - the embedded self-test (examples/embedded/main.c)
# built bare-metal for a Cortex-M4 and run on QEMU's mps2-an386 board.
#
#   tests/embedded-qemu.sh [OUTDIR]
#
# Built with arm-none-eabi-gcc at -Os with the strict warnings as errors,
# ws.h's implementation freestanding in its own unit, our vector table and
# linker script (startup.c, mps2.ld) and newlib's semihosting library
# (--specs=rdimon.specs), so printf reaches the host and exit() ends the
# emulator with the program's status - which is this test's result. A fault
# ends it too (status 99, see startup.c); a hang is cut off by a timeout.
# A missing arm-none-eabi-gcc or qemu-system-arm fails the test (CI
# installs both).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/embedded-qemu}
mkdir -p "$out" || exit 1
emb=$root/examples/embedded
inc=${WS_H_DIR:-$root}
CC=${ARM_CC:-arm-none-eabi-gcc}
QEMU=${QEMU_SYSTEM_ARM:-qemu-system-arm}
TIMEOUT=${EMBEDDED_QEMU_TIMEOUT:-300}
# Extra flags for the library's unit, e.g. "-DWS_SMALL -DWS_NO_ALLOC" for the
# smallest profile (CTest embedded.qemu_small).
WS_FLAGS=${EMBEDDED_WS_FLAGS:-}

for tool in "$CC" "$QEMU" timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done

ARCH="-mcpu=cortex-m4 -mthumb"
FLAGS="-Os -g -ffunction-sections -fdata-sections -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
elf=$out/embedded-selftest.elf
rm -f "$elf"
# shellcheck disable=SC2086
if ! $CC $ARCH $FLAGS -ffreestanding $WS_FLAGS -I"$inc" -c "$emb/ws_impl.c" -o "$out/ws_impl.o" ||
    ! $CC $ARCH $FLAGS -DEMB_RDIMON -I"$inc" "$emb/main.c" "$emb/startup.c" "$out/ws_impl.o" \
        -T "$emb/mps2.ld" -nostartfiles --specs=rdimon.specs -Wl,--gc-sections \
        -Wl,-Map="$out/embedded-selftest.map" -o "$elf"; then
    echo "FAIL: the Cortex-M4 build of examples/embedded failed"
    echo "0 passed, 1 failed"
    exit 1
fi
${CC%gcc}size "$elf"

echo "running on qemu-system-arm -M mps2-an386 (Cortex-M4)${WS_FLAGS:+, ws.h built with $WS_FLAGS}, timeout ${TIMEOUT}s"
timeout -k 10 "$TIMEOUT" "$QEMU" -M mps2-an386 -nographic -monitor none -serial none \
    -semihosting -kernel "$elf" </dev/null
rc=$?
case $rc in
0) echo "embedded.qemu: the self-test passed on the emulated Cortex-M4" ;;
124 | 137) echo "FAIL: the emulated program did not finish within ${TIMEOUT}s" ;;
99) echo "FAIL: the emulated program faulted (see the startup: line above)" ;;
*) echo "FAIL: the emulated program exited with status $rc" ;;
esac
exit "$rc"
