/* adagrad: the Adagrad update of the model's parameters, once per gradient
 * frame, inline or in the workspace (-w): min-char-rnn's rule, the
 * training loop's default,
 *
 *   mem += g * g;  p -= lr * g / sqrt(mem + 1e-8)
 *
 * The stage is lib/optim_stage.c, shared by the optimisers; the rule is in
 * lib/optim.c and formats/model.md (THE OPTIMISERS).
 *
 * Its contract (options, streams, exit status): man/charnn-adagrad.1. */
#include "optim.h"

int main(int argc, char **argv)
{
	return optim_main(optim_find("adagrad"), argc, argv);
}
