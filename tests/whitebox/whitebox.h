/* The one header through which tests reach glint's internals: the private headers of src/. */
#ifndef GLINT_TESTS_WHITEBOX_H
#define GLINT_TESTS_WHITEBOX_H

#include "hv/hv.h"
#include "load/gimg.h"
#include "mem/layout.h"
#include "os/confine.h"
#include "os/deadline.h"
#include "runtime/exits.h"
#include "runtime/exports.h"
#include "runtime/failure.h"
#include "runtime/hostfns.h"
#include "runtime/hot.h"
#include "runtime/image.h"
#include "runtime/image_file.h"
#include "runtime/restore.h"
#include "runtime/run.h"
#include "runtime/sandbox.h"

#endif
