/* The one header through which tests reach glint's internals: the private headers of src/. */
#ifndef GLINT_TESTS_WHITEBOX_H
#define GLINT_TESTS_WHITEBOX_H

#include "os/confine.h"
#include "runtime/internal.h"

#endif
