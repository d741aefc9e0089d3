#ifndef HOTSECRETS_CCURL_SHIM_H
#define HOTSECRETS_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. These trampolines
// call them, through a pointer from dlsym, with the argument type each option takes, so the C
// compiler applies the variadic calling convention.
typedef CURLcode (*hs_curl_setopt_t)(CURL *, CURLoption, ...);
typedef CURLcode (*hs_curl_getinfo_t)(CURL *, CURLINFO, ...);
typedef size_t (*hs_curl_data_callback)(char *, size_t, size_t, void *);
typedef int (*hs_curl_progress_callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

static inline CURLcode hs_curl_setopt_long(void *fn, CURL *handle, CURLoption option, long value) {
  return ((hs_curl_setopt_t)fn)(handle, option, value);
}

static inline CURLcode hs_curl_setopt_pointer(void *fn, CURL *handle, CURLoption option, const void *value) {
  return ((hs_curl_setopt_t)fn)(handle, option, value);
}

static inline CURLcode hs_curl_setopt_offset(void *fn, CURL *handle, CURLoption option, curl_off_t value) {
  return ((hs_curl_setopt_t)fn)(handle, option, value);
}

static inline CURLcode hs_curl_setopt_data_callback(
    void *fn, CURL *handle, CURLoption option, hs_curl_data_callback value) {
  return ((hs_curl_setopt_t)fn)(handle, option, value);
}

static inline CURLcode hs_curl_setopt_progress_callback(
    void *fn, CURL *handle, CURLoption option, hs_curl_progress_callback value) {
  return ((hs_curl_setopt_t)fn)(handle, option, value);
}

static inline CURLcode hs_curl_getinfo_long(void *fn, CURL *handle, CURLINFO info, long *value) {
  return ((hs_curl_getinfo_t)fn)(handle, info, value);
}

#endif
