// Declarations only (include/FuzzSupport.h).
