/* A main() for the fuzz targets when they are not built with libFuzzer:
 * replays every file named on the command line (directories: every regular
 * file inside, in name order) through LLVMFuzzerTestOneInput, or stdin when
 * there are no arguments or the argument is "-" (for AFL++). A violated
 * invariant aborts, so a clean exit means every input passed.
 *
 * Under afl-clang-fast / afl-cc the stdin mode runs in AFL++'s persistent
 * mode (__AFL_LOOP), many inputs per process. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

/* Reads a whole stream; returns NULL (and complains) on failure. */
static unsigned char *slurp(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    unsigned char *buf = (unsigned char *)malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        size_t r;
        if (n == cap) {
            unsigned char *p = (unsigned char *)realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p, cap *= 2;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Runs one input from an exact-size heap copy, so an over-read by one byte
 * is caught by AddressSanitizer. */
static void run(const unsigned char *data, size_t len) {
    unsigned char *copy = (unsigned char *)malloc(len ? len : 1);
    if (!copy) {
        fprintf(stderr, "replay: out of memory\n");
        exit(2);
    }
    if (len) memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    replayed++;
}

static int run_file(const char *path) {
    size_t len = 0;
    unsigned char *buf;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    buf = slurp(f, &len);
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    if (getenv("WS_FUZZ_VERBOSE")) fprintf(stderr, "replay: %s (%lu bytes)\n", path, (unsigned long)len);
    run(buf, len);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int bad = 0;
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **p = (char **)realloc(names, (cap ? cap * 2 : 64) * sizeof *names);
            if (!p) break;
            names = p, cap = cap ? cap * 2 : 64;
        }
        names[n] = (char *)malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n]) break;
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    for (i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            /* A README next to the inputs is documentation, not an input. */
            const char *base = strrchr(names[i], '/');
            base = base ? base + 1 : names[i];
            if (strcmp(base, "README.md") != 0) bad |= run_file(names[i]);
        }
        free(names[i]);
    }
    free(names);
    return bad;
}

#ifdef __AFL_LOOP
static int run_stdin(void) {
    while (__AFL_LOOP(10000)) {
        size_t len = 0;
        unsigned char *buf = slurp(stdin, &len);
        if (!buf) return 1;
        run(buf, len);
        free(buf);
        clearerr(stdin);
    }
    return 0;
}
#else
static int run_stdin(void) {
    size_t len = 0;
    unsigned char *buf = slurp(stdin, &len);
    if (!buf) {
        fprintf(stderr, "replay: cannot read stdin\n");
        return 1;
    }
    run(buf, len);
    free(buf);
    return 0;
}
#endif

int main(int argc, char **argv) {
    int i, bad = 0;
    if (argc < 2 || (argc == 2 && strcmp(argv[1], "-") == 0)) return run_stdin();
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            bad |= run_dir(argv[i]);
        } else {
            bad |= run_file(argv[i]);
        }
    }
    printf("replayed %lu inputs\n", replayed);
    return bad;
}
