# Sourced by the stack scripts: exports GLINT_HAPROXY_RUN_DIR, HAProxy's run folder as the
# declaration resolves it. `glint config run-dir` decides (one folder per machine unless the
# declaration names one), so the scripts, docker-compose.yml and the daemon always agree.
if [ -z "${GLINT_HAPROXY_RUN_DIR:-}" ]; then
  GLINT_HAPROXY_RUN_DIR=$(node bin/glint.js config run-dir "${GLINT_CONFIG:-scheduler.config.ts}")
fi
export GLINT_HAPROXY_RUN_DIR
