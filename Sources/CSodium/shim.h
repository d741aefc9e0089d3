#ifndef HOTSECRETS_CSODIUM_SHIM_H
#define HOTSECRETS_CSODIUM_SHIM_H
#include <sodium.h>
#endif
