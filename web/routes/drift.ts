import type { FastifyInstance } from 'fastify';
import type { Guard } from '../auth.js';
import type { DriftMonitor } from '../../drift/drift-monitor.js';
import { driftReportHtml } from '../../drift/drift-report-html.js';

const cameraQuery = { type: 'object', properties: { camera: { type: 'string', maxLength: 200 }, token: { type: 'string' } } } as const;

/** GET /v1/drift (JSON per camera) and GET /v1/drift/report (the same as an HTML page with the distributions). */
export async function driftRoutes(app: FastifyInstance, options: { monitor: DriftMonitor; viewer: Guard }): Promise<void> {
  const { monitor } = options;
  app.get('/v1/drift', {
    preHandler: options.viewer,
    schema: {
      summary: 'Drift of each camera\'s recent crops against the served model\'s training baseline',
      description: 'Per camera: whether it drifted, which features, and per feature PSI, KS statistic and p-value, baseline and current means and bin shares. Cameras with fewer crops than drift.minSamples are listed as pending.',
      tags: ['drift'],
      querystring: cameraQuery,
    },
  }, async (request) => {
    const { camera } = request.query as { camera?: string };
    const report = monitor.report(camera);
    const o = monitor.options;
    return { ...report, enabled: monitor.model !== null, thresholds: { method: o.method, psiThreshold: o.psiThreshold, ksPValue: o.ksPValue, minDriftedFeatures: o.minDriftedFeatures, includeScores: o.includeScores, minEffect: o.minEffect, window: o.window, minSamples: o.minSamples } };
  });

  app.get('/v1/drift/report', {
    preHandler: options.viewer,
    schema: { summary: 'Drift report as a self-contained HTML page (distributions per feature and camera)', tags: ['drift'], querystring: cameraQuery },
  }, async (request, reply) => {
    const { camera } = request.query as { camera?: string };
    const report = monitor.report(camera);
    const baseline = monitor.currentBaseline;
    const html = driftReportHtml({
      title: `Skywatch drift${camera ? `: ${camera}` : ''}`,
      model: report.model ?? '(no baseline: drift monitoring is off)',
      baselineSource: baseline?.source ?? '–',
      baselineCount: baseline?.count ?? 0,
      sections: report.cameras.map((c) => ({ name: `camera ${c.cameraId}`, result: c })),
    });
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
