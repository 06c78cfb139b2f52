import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { AlertSink } from './alert-sink.js';
import { MqttSink } from './mqtt-sink.js';
import { SinkList } from './sink-list.js';
import { WebhookSink } from './webhook-sink.js';

/** The configured sinks: the webhook when `alerts.webhookUrl` is set, MQTT when `mqtt.enabled`. */
export function createSinks(config: Config, logger: Logger): SinkList {
  const sinks: AlertSink[] = [];
  if (config.alerts.webhookUrl) sinks.push(new WebhookSink({ url: config.alerts.webhookUrl, cooldownMs: config.alerts.webhookCooldownMs, logger }));
  if (config.mqtt.enabled) sinks.push(new MqttSink({ url: config.mqtt.url, topicPrefix: config.mqtt.topicPrefix, logger }));
  return new SinkList(sinks, logger);
}
