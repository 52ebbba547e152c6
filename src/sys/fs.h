/*
 * fs.h - what opening a store on disk needs from the system, written once
 * for the module's store and the emulator's: creating a data directory
 * with its parents (mkdir -p), and the thread-local text that the *err
 * out-parameter of an open call points to.
 */
#ifndef IZ_FS_H
#define IZ_FS_H

/* Create dir and its missing parents with mode 0700 (what is already there
 * is left as it is). 0; IZ_ETOOBIG when the path is longer than PATH_MAX,
 * IZ_EIO when a directory cannot be made, IZ_EINVAL when dir exists and is
 * not a directory. On failure *err says why (iz_errf text). */
int iz_mkdirs(const char *dir, const char **err);

/* Format a message into this thread's error buffer (512 bytes; a longer
 * message is cut) and return it. The text stays valid until the thread's
 * next call, so an open call can hand it back through *err without anyone
 * freeing it. */
const char *iz_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
