#ifndef HOTSECRETS_CPOSTGRES_SHIM_H
#define HOTSECRETS_CPOSTGRES_SHIM_H

#include <postgresql/libpq-fe.h>

#endif
