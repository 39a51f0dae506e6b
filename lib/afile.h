/* afile.h: files written by name appear whole or not at all.
 *
 * The data goes to a temporary file in the same directory, which is renamed
 * over the final name only once everything was written; if the program
 * dies first (eprintf), the temporary file is removed. */
#ifndef CHARNN_AFILE_H
#define CHARNN_AFILE_H

struct afile {
	int fd;		/* write here */
	char *path;	/* the final name */
	char *tmp;	/* the temporary one */
};

/* Create the temporary file for path (mode 0666 less the umask). Dies if it
 * cannot. */
void afile_open(struct afile *a, const char *path);
/* Close it (after fsync when sync is set, for files a later run depends
 * on, such as checkpoints) and rename it into place. Dies on any error. A
 * caller that wrote through stdio closes the file itself and sets fd to -1
 * first. */
void afile_commit(struct afile *a, int sync);

#endif
