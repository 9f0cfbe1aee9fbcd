/**
 * Process entry: configuration → model → app → listen. The model is loaded before the
 * server listens (fail fast), and SIGTERM/SIGINT close the server before the model.
 */
import { createApp } from './app';
import { loadConfig } from './config';
import { createLogger } from './log';
import { createClassifier } from './model/classifier';

async function main() {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  const started = Date.now();
  const classifier = await createClassifier(config.modelDir, { intraOpThreads: config.ortThreads });
  const { name, version, clinicallyMeaningful, labels } = classifier.info;
  log.info({ model: { name, version, labels: labels.length }, ms: Date.now() - started }, 'model loaded');
  if (!clinicallyMeaningful) log.warn({ model: name }, 'this model is a test model: its suggestions are not clinically meaningful');

  const app = createApp({ config, classifier, log });
  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    log.info({ host: config.host, port: typeof address === 'object' && address ? address.port : config.port }, 'listening');
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(() => {
      void classifier.dispose().finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error) => {
  // Start-up problems (configuration, model bundle) are ours, not PHI: print them plainly.
  console.error(`icd10-cds failed to start: ${error.message}`);
  process.exit(1);
});
