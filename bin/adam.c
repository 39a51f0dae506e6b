/* adam: the Adam update of the model's parameters, once per gradient
 * frame, inline or in the workspace (-w). The stage is lib/optim_stage.c,
 * shared by the optimisers; the rule is in lib/optim.c and
 * formats/model.md (THE OPTIMISERS).
 *
 * Its contract (options, streams, exit status): man/charnn-adam.1. */
#include "optim.h"

int main(int argc, char **argv)
{
	return optim_main(optim_find("adam"), argc, argv);
}
