/* Input to bindgen (recorder/build.rs): Perl's headers as the target perl was built,
 * and the glue's own declarations. */
#include "glue.h"
