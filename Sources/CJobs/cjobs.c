#define _GNU_SOURCE
#include "cjobs.h"
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <string.h>

int cjobs_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

#include <errno.h>
#include <semaphore.h>
#include <signal.h>

static sem_t cjobs_sigchld_count;

static void cjobs_on_sigchld(int signal) {
    (void)signal;
    int saved = errno;
    sem_post(&cjobs_sigchld_count);
    errno = saved;
}

int cjobs_count_sigchld(void) {
    if (sem_init(&cjobs_sigchld_count, 0, 0) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cjobs_on_sigchld;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    return sigaction(SIGCHLD, &action, NULL);
}

void cjobs_wait_for_sigchld(void) {
    while (sem_wait(&cjobs_sigchld_count) != 0 && errno == EINTR) {}
}

int cjobs_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cjobs_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

long cjobs_filesystem_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Raw system calls on purpose: glibc's setgroups/setfsuid wrappers change every thread of the
   process (setxid broadcast) or may in future; the kernel's own calls change only this one. */
static int thread_set_fs_identity(uid_t uid, gid_t gid, const gid_t *groups, int ngroups) {
    if (syscall(SYS_setgroups, (size_t)ngroups, groups) != 0) return -1;
    syscall(SYS_setfsgid, gid);
    syscall(SYS_setfsuid, uid);
    if ((uid_t)syscall(SYS_setfsuid, (uid_t)-1) != uid || (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != gid) return -1;
    return 0;
}

/* The calling thread's file-system identity, saved before taking a user's and put back after. */
struct saved_fs_identity {
    gid_t groups[256];
    int count;
    uid_t uid;
    gid_t gid;
};

static int thread_save_fs_identity(struct saved_fs_identity *saved) {
    saved->count = (int)syscall(SYS_getgroups, 256, saved->groups);
    if (saved->count < 0) return -1;
    saved->uid = (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
    saved->gid = (gid_t)syscall(SYS_setfsgid, (gid_t)-1);
    return 0;
}

static void thread_restore_fs_identity(const struct saved_fs_identity *saved) {
    syscall(SYS_setfsuid, saved->uid);
    syscall(SYS_setfsgid, saved->gid);
    syscall(SYS_setgroups, (size_t)saved->count, saved->groups);
}

int cjobs_open_as_user(const char *path, uid_t uid, gid_t gid, const gid_t *groups, int ngroups, mode_t mode) {
    if (path == NULL || path[0] != '/' || ngroups < 0 || ngroups > 65536) { errno = EINVAL; return -1; }
    size_t length = strlen(path);
    if (length >= 4096) { errno = ENAMETOOLONG; return -1; }
    char copy[4096];
    memcpy(copy, path, length + 1);

    struct saved_fs_identity saved;
    if (thread_save_fs_identity(&saved) != 0) return -1;

    int result = -1;
    int error = 0;
    if (thread_set_fs_identity(uid, gid, groups, ngroups) != 0) {
        error = EPERM;
        goto restore;
    }
    int directory = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) { error = errno; goto restore; }
    char *cursor = copy + 1;
    for (;;) {
        char *slash = strchr(cursor, '/');
        if (slash == NULL) break;
        *slash = '\0';
        if (cursor[0] == '\0' || strcmp(cursor, ".") == 0 || strcmp(cursor, "..") == 0) {
            error = EINVAL;
            close(directory);
            goto restore;
        }
        int next = openat(directory, cursor, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(directory, cursor, 0700) != 0 && errno != EEXIST) { error = errno; close(directory); goto restore; }
            next = openat(directory, cursor, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) { error = errno; close(directory); goto restore; }
        close(directory);
        directory = next;
        cursor = slash + 1;
    }
    if (cursor[0] == '\0' || strcmp(cursor, ".") == 0 || strcmp(cursor, "..") == 0) {
        error = EINVAL;
        close(directory);
        goto restore;
    }
    /* O_NONBLOCK: a FIFO planted at the path must not block the agent's thread (with no reader
       it fails with ENXIO); O_TRUNC only once it is known to be a regular file. */
    result = openat(directory, cursor, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode & 01777);
    if (result < 0) error = errno;
    close(directory);
    if (result >= 0) {
        struct stat info;
        if (fstat(result, &info) != 0 || !S_ISREG(info.st_mode) || ftruncate(result, 0) != 0
            || fcntl(result, F_SETFL, fcntl(result, F_GETFL) & ~O_NONBLOCK) != 0) {
            close(result);
            result = -1;
            error = EINVAL;
        }
    }
restore:
    thread_restore_fs_identity(&saved);
    if (result < 0) errno = error;
    return result;
}

int cjobs_may_open_as_user(const char *path, uid_t uid, gid_t gid, const gid_t *groups, int ngroups, int access_mode) {
    if (path == NULL || path[0] != '/' || ngroups < 0 || ngroups > 65536) { errno = EINVAL; return -1; }
    if (access_mode != O_RDONLY && access_mode != O_WRONLY && access_mode != O_RDWR) { errno = EINVAL; return -1; }
    struct saved_fs_identity saved;
    if (thread_save_fs_identity(&saved) != 0) return -1;
    int result = -1;
    int error = 0;
    if (thread_set_fs_identity(uid, gid, groups, ngroups) != 0) {
        error = EPERM;
    } else {
        /* O_NONBLOCK: a FIFO or a device must not block the agent's thread; no O_CREAT or
           O_TRUNC: nothing changes. A FIFO without a peer (ENXIO) was opened as allowed. */
        int descriptor = open(path, access_mode | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (descriptor >= 0) {
            close(descriptor);
            result = 0;
        } else if (errno == ENXIO) {
            result = 0;
        } else {
            error = errno;
        }
    }
    thread_restore_fs_identity(&saved);
    if (result < 0) errno = error;
    return result;
}
