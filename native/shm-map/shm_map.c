/*
 * shm-map: maps a file of the node's shared-memory folder into the process as an external
 * ArrayBuffer (MAP_PRIVATE, read and write: a task that writes into its argument gets private
 * copy-on-write pages, the shared file never changes), unmapped by the buffer's finalizer; and
 * tells whether such a mapping is still unmodified (no page copied on write, from
 * /proc/self/pagemap), so an identity task's result can alias its argument's file; and makes,
 * on a thread of the pool, a new file whose pages are already allocated (fallocate), so that a
 * later put writing into it copies its bytes without waiting for the kernel to find memory; and
 * tells whether a freed value's file is used by anyone still (a write lease), so that its pages
 * can take the next value.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Page flags of /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *what, const char *path) {
  char msg[4700];
  snprintf(msg, sizeof msg, "%s %s: %s", what, path, strerror(errno));
  napi_throw_error(env, "ERR_ORRERY_SHM_MAP", msg);
  return NULL;
}

/* The call's first argument, a path, into `path`; false (a TypeError thrown with `usage`) when it is not a string. */
static bool path_arg(napi_env env, napi_callback_info info, char *path, size_t size, const char *usage) {
  size_t argc = 1, len;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, size, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  return true;
}

/* map(path): ArrayBuffer over the whole file (an empty file gives an empty, ordinary buffer). */
static napi_value map_file(napi_env env, napi_callback_info info) {
  char path[4096];
  if (!path_arg(env, info, path, sizeof path, "map(path): path must be a string")) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(env, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return fail(env, "cannot stat", path);
  }
  napi_value out;
  size_t size = (size_t)st.st_size;
  if (size == 0) {
    close(fd);
    void *unused;
    napi_create_arraybuffer(env, 0, &unused, &out);
    return out;
  }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return fail(env, "cannot map", path);
  napi_status s = napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &out);
  if (s != napi_ok) {
    munmap(p, size);
    napi_throw_error(env, "ERR_ORRERY_SHM_EXTERNAL", "this runtime refuses external array buffers");
    return NULL;
  }
  return out;
}

/*
 * pristine(buffer): true when no page of a mapping made by map() was copied on write (every
 * page is either not touched yet or still the shared file's page). False when unsure.
 */
static napi_value pristine(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool result = false;
  if (argc >= 1 && napi_get_arraybuffer_info(env, argv[0], &data, &size) == napi_ok && size > 0) {
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)data / page, last = ((uintptr_t)data + size - 1) / page;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      result = true;
      uint64_t entries[512];
      for (uintptr_t at = first; at <= last && result;) {
        size_t n = last - at + 1 > 512 ? 512 : last - at + 1;
        ssize_t got = pread(fd, entries, n * 8, (off_t)(at * 8));
        if (got != (ssize_t)(n * 8)) {
          result = false;
          break;
        }
        for (size_t i = 0; i < n; i++) {
          uint64_t e = entries[i];
          if ((e & PM_SWAPPED) || ((e & PM_PRESENT) && !(e & PM_FILE))) {
            result = false;
            break;
          }
        }
        at += n;
      }
      close(fd);
    }
  }
  napi_get_boolean(env, result, &out);
  return out;
}

/* probe(): throws where external array buffers are refused (Electron's memory cage). */
static napi_value probe(napi_env env, napi_callback_info info) {
  (void)info;
  size_t size = (size_t)sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return fail(env, "cannot map", "an anonymous page");
  napi_value out;
  if (napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &out) != napi_ok) {
    munmap(p, size);
    napi_throw_error(env, "ERR_ORRERY_SHM_EXTERNAL", "this runtime refuses external array buffers");
    return NULL;
  }
  return out;
}

/* preallocate(path, bytes, done): a new file (0600, never an existing one) with `bytes` of pages. */
typedef struct {
  napi_async_work work;
  napi_ref done;
  char path[4096];
  int64_t bytes;
  int error;
} Prealloc;

static void prealloc_execute(napi_env env, void *data) {
  (void)env;
  Prealloc *p = data;
  int fd = open(p->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    p->error = errno;
    return;
  }
  if (fallocate(fd, 0, 0, (off_t)p->bytes) != 0) {
    p->error = errno;
    unlink(p->path);
  }
  close(fd);
}

static void prealloc_complete(napi_env env, napi_status status, void *data) {
  Prealloc *p = data;
  napi_value done, global, arg;
  if (status == napi_ok && p->error == 0) napi_get_null(env, &arg);
  else napi_create_string_utf8(env, strerror(p->error ? p->error : ECANCELED), NAPI_AUTO_LENGTH, &arg);
  napi_get_reference_value(env, p->done, &done);
  napi_get_global(env, &global);
  napi_call_function(env, global, done, 1, &arg, NULL);
  napi_delete_reference(env, p->done);
  napi_delete_async_work(env, p->work);
  free(p);
}

static napi_value preallocate(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], name;
  size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Prealloc *p = calloc(1, sizeof *p);
  if (!p) return fail(env, "cannot allocate", "a preallocation");
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], p->path, sizeof p->path, &len) != napi_ok ||
      napi_get_value_int64(env, argv[1], &p->bytes) != napi_ok || p->bytes <= 0 ||
      napi_create_reference(env, argv[2], 1, &p->done) != napi_ok) {
    free(p);
    napi_throw_type_error(env, NULL, "preallocate(path, bytes, done): a path, a positive size and a callback");
    return NULL;
  }
  napi_create_string_utf8(env, "orrery-shm-preallocate", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, prealloc_execute, prealloc_complete, p, &p->work);
  napi_queue_async_work(env, p->work);
  return NULL;
}

/*
 * reusable(path): true when nothing else uses the file: it has one name, and no process holds
 * it open or mapped (a mapping keeps its open file, even after close). The kernel grants a write
 * lease only then (fs/locks.c counts the inode's readers and writers); taken and given back at
 * once, it is only the question. The caller renames the file first, so no reader can open it by
 * the name it was told afterwards.
 */
static napi_value reusable(napi_env env, napi_callback_info info) {
  napi_value out;
  char path[4096];
  if (!path_arg(env, info, path, sizeof path, "reusable(path): path must be a string")) return NULL;
  bool result = false;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0) {
      fcntl(fd, F_SETLEASE, F_UNLCK);
      result = true;
    }
    close(fd);
  }
  napi_get_boolean(env, result, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "reusable", NAPI_AUTO_LENGTH, reusable, NULL, &fn);
  napi_set_named_property(env, exports, "reusable", fn);
  napi_create_function(env, "preallocate", NAPI_AUTO_LENGTH, preallocate, NULL, &fn);
  napi_set_named_property(env, exports, "preallocate", fn);
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map_file, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  napi_create_function(env, "pristine", NAPI_AUTO_LENGTH, pristine, NULL, &fn);
  napi_set_named_property(env, exports, "pristine", fn);
  napi_create_function(env, "probe", NAPI_AUTO_LENGTH, probe, NULL, &fn);
  napi_set_named_property(env, exports, "probe", fn);
  return exports;
}
