/* Host functions of several signatures, and a runtime guest registered with them, for the tests
 * of glint.call from scripts (Lua and JavaScript). */
#ifndef GLINT_TESTS_SCRIPT_HOST_H
#define GLINT_TESTS_SCRIPT_HOST_H

#include "glint.h"
#include "helpers.h"

/* Add(i32,i32)->i32, Concat(string,string)->string, Reverse(bytes)->bytes, Half(f64)->f64,
 * Not(bool)->bool, Note(string) (kept in `noted`), Unsigned(u64,u32)->u64, Fail(i32) (returns
 * -7): each counts itself in `calls`. */
struct script_host {
    struct vm_capture cap; /* what the guest prints */
    glint_host_fns *fns;
    glint_image *img; /* build/guests/<runtime>.elf with those functions */
    glint_sandbox *sb;
    int calls;       /* host function invocations (any of ours) */
    char noted[256]; /* Note's last argument */
};

/* Skip without KVM; register the functions, load the runtime guest ("lua", "js") with 16 MiB heap,
 * 256 KiB stack, 64 KiB input and a 5 s timeout, and create one sandbox. */
void script_host_open(struct script_host *h, const char *runtime);
void script_host_close(struct script_host *h);

#endif
