// define-config.ts has no runtime imports, so this file loads wherever the checkout is mounted.
import { defineConfig } from './src/config/define-config.ts';

// The demo declaration: one app, `web`, three instances of the stamped demo image behind
// HAProxy on 127.0.0.1:8080. `npm start` runs the daemon with this file.
export default defineConfig({
  // HAProxy runs on this machine with host networking, so it reaches instances at their
  // container IPs: nothing is published, and no port proxy sits between HAProxy and the app.
  docker: {
    endpoints: [
      { name: 'local', socketPath: '/var/run/docker.sock', hostIp: '127.0.0.1', addressMode: 'container' },
    ],
  },
  etcd: { endpoints: ['http://127.0.0.1:2379'], prefix: '/glint' },
  registries: { '127.0.0.1:5000': { insecure: true } },
  haproxy: { container: 'glint-haproxy' },
  api: { listen: '127.0.0.1:7070' },
  apps: {
    web: {
      image: '127.0.0.1:5000/demo-app',
      version: '1.0.0',
      instances: 3,
      port: 8080,
      env: { GREETING: 'hello from glint' },
      resources: { memory: '128m', cpus: 0.5 },
      health: { type: 'http', path: '/healthz', interval: '1s', timeout: '500ms', healthyThreshold: 2 },
      strategy: {
        maxSurge: 1,
        maxUnavailable: 0,
        minHealthyTime: '2s',
        drainTimeout: '10s',
        stopTimeout: '10s',
      },
      rotation: { cron: '0 3 * * *', timezone: 'UTC', maxAge: '24h', jitter: '5m' },
      routing: { frontendPort: 8080 },
    },
  },
});
