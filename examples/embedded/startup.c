/* startup.c - the smallest Cortex-M startup the embedded programs need:
 * a vector table, a reset handler that lays out RAM the way a C program
 * expects, and fault handlers that end the run (under QEMU) instead of
 * spinning forever.
 *
 * Built for QEMU's mps2-an386 (Cortex-M4) with mps2.ld; it also compiles for
 * Cortex-M0+ (the size programs link it for both). Nothing here is specific
 * to ws.h: real firmware has its vendor's startup file instead.
 *
 * Exits go through ARM semihosting (BKPT 0xAB), which QEMU serves when run
 * with -semihosting. On a board without a debugger attached a BKPT would
 * fault, so firmware would reset or blink an LED there instead.
 *
 * EMB_RDIMON (set by tests/embedded-qemu.sh, which links newlib's
 * rdimon.specs): stdio goes to the host through semihosting, so the reset
 * handler sets it up and ends with exit(), which flushes stdout and reports
 * the status through semihosting's SYS_EXIT_EXTENDED. Without it (the size
 * programs, linked with nosys.specs) main's status goes out directly. */
#include <stdint.h>

#ifdef EMB_RDIMON
#include <stdlib.h>
extern void initialise_monitor_handles(void);
/* Linked with -nostartfiles, so newlib's exit() finds no crti.o: these are
 * the (empty) init and fini hooks it calls. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}
#endif

extern int main(void);

/* From mps2.ld. */
extern char __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];

/* ---- semihosting ---- */

#define EMB_SYS_WRITE0 0x04
#define EMB_SYS_EXIT_EXTENDED 0x20
#define EMB_ADP_STOPPED_APPLICATION_EXIT 0x20026

static int emb_semihost(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void emb_puts(const char *s) { (void)emb_semihost(EMB_SYS_WRITE0, (void *)(uintptr_t)s); }

/* Ends the emulator with `code` as its exit status. */
static void emb_exit(int code) {
    uint32_t block[2];
    block[0] = EMB_ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)code;
    (void)emb_semihost(EMB_SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

/* ---- faults ---- */

/* Called by the fault stubs with the stacked exception frame (r0-r3, r12,
 * lr, pc, xpsr). Says which fault and where, then ends the run with 99 so a
 * crash can never look like a pass, nor hang the test. */
void emb_fault(const uint32_t *frame);
/* used: only the assembly stub refers to it, which LTO cannot see. */
__attribute__((used)) void emb_fault(const uint32_t *frame) {
    static const char *const names[] = {"?",        "Reset",    "NMI",      "HardFault",
                                        "MemManage", "BusFault", "UsageFault"};
    static const char hex[] = "0123456789abcdef";
    char line[64], *p = line;
    const char *name, *s;
    uint32_t ipsr, pc = frame[6];
    int i;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1ffu;
    name = ipsr < sizeof names / sizeof names[0] ? names[ipsr] : "unexpected interrupt";
    for (s = "\nstartup: "; *s; s++) *p++ = *s;
    for (s = name; *s && p < line + 34; s++) *p++ = *s;
    for (s = " at pc=0x"; *s; s++) *p++ = *s;
    for (i = 28; i >= 0; i -= 4) *p++ = hex[(pc >> i) & 15u];
    *p++ = '\n', *p = '\0';
    emb_puts(line);
    emb_exit(99);
}

/* The exception frame sits on the main stack (nothing here uses the process
 * stack); a stub hands its address to emb_fault. */
__attribute__((naked)) static void emb_fault_entry(void) {
    __asm__ volatile("mrs r0, msp\n"
                     "ldr r1, =emb_fault\n"
                     "bx r1\n");
}

/* ---- reset ---- */

void Reset_Handler(void); /* the ELF entry point too, for debuggers */
void Reset_Handler(void) {
    uint32_t *src = __data_load, *dst;
    for (dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;) *dst++ = 0;
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
    /* Make integer division by zero fault (it silently gives 0 otherwise)
     * and give MemManage, BusFault and UsageFault their own vectors. */
    *(volatile uint32_t *)0xE000ED14u |= 1u << 4;                            /* CCR.DIV_0_TRP */
    *(volatile uint32_t *)0xE000ED24u |= (1u << 16) | (1u << 17) | (1u << 18); /* SHCSR */
#endif
#ifdef EMB_RDIMON
    initialise_monitor_handles();
    exit(main());
#else
    emb_exit(main());
#endif
}

/* ---- vector table ---- */

typedef void (*emb_handler)(void);

typedef struct emb_vectors {
    void *initial_sp;
    emb_handler handlers[15 + 32]; /* system exceptions 1..15, then IRQs */
} emb_vectors;

/* Every entry but reset goes to the fault stub: no interrupt is enabled, so
 * any exception at all is a failure of the program. */
#define EMB_F emb_fault_entry
#define EMB_F8 EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F
__attribute__((section(".vectors"), used)) static const emb_vectors emb_vector_table = {
    __stack_top,
    {Reset_Handler, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F, EMB_F,
     EMB_F, EMB_F, EMB_F, EMB_F8, EMB_F8, EMB_F8, EMB_F8}};
