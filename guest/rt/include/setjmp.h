/* libglint-rt: <setjmp.h> for guest code compiled against other headers (MuJS's mujs.h, whose
 * js_try macro calls setjmp). glibc's 200-byte jmp_buf; setjmp/longjmp are musl's members. */
#ifndef GLINT_RT_SETJMP_H
#define GLINT_RT_SETJMP_H

typedef long jmp_buf[25];

__attribute__((returns_twice)) int setjmp(jmp_buf env);
__attribute__((returns_twice)) int _setjmp(jmp_buf env);
__attribute__((noreturn)) void longjmp(jmp_buf env, int val);

#endif
