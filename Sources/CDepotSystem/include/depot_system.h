#ifndef DEPOT_SYSTEM_H
#define DEPOT_SYSTEM_H
/* System calls Glibc's Swift module map leaves out. */
#include <sys/xattr.h>
#endif
