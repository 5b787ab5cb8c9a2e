/* Guest entry point: the host starts here at CPL3 with rsp at the top of the stack. */
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call glint__start
    ud2
    .size _start, . - _start
    .section .note.GNU-stack, "", @progbits
