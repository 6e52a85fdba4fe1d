// @tributary/broker: the `tributary` command, and its composition root for embedding the whole
// broker (file storage, metrics, admin port) in another program.
export { type RunningBroker, StartupError, startBroker } from './broker-app.js';
export { run } from './cli.js';
export { ConfigError, type LoadedConfig, loadConfig } from './config/load.js';
export { type AppConfig, SETTINGS, type SettingName } from './config/settings.js';
