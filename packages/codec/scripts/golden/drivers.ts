// Short scripts that drive each real client against the scripted broker: connect, read metadata,
// create a topic where the client can, produce keyed messages with headers, consume them in a group,
// commit, leave. Each reports the steps it completed; whatever it sent on the way is captured.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** What one run of a client script got to. */
export interface DriverReport {
  steps: string[];
  error?: string;
}

export interface ClientDriver {
  /** Folder name under test/golden. */
  readonly name: string;
  /** The client id the script sets, asserted by the golden test. */
  readonly clientId: string;
  readonly topic: string;
  readonly group: string;
  /** The client's version, or undefined when it is not installed here. */
  version(): string | undefined;
  run(bootstrap: string, budgetMs: number): Promise<DriverReport>;
}

export const MESSAGES = [
  { key: 'key-1', value: 'tributary golden value 1', header: 'h-1' },
  { key: 'key-2', value: 'tributary golden value 2', header: 'h-2' },
  { key: 'key-3', value: 'tributary golden value 3', header: 'h-3' },
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` until it settles or the budget runs out, recording the steps it reports. */
async function bounded(budgetMs: number, work: (step: (s: string) => void) => Promise<void>) {
  const report: DriverReport = { steps: [] };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`budget of ${budgetMs} ms ran out`)), budgetMs);
  });
  try {
    await Promise.race([work((s) => report.steps.push(s)), timeout]);
  } catch (e) {
    report.error = (e as Error).message;
  } finally {
    clearTimeout(timer);
  }
  return report;
}

function packageVersion(name: string): string | undefined {
  try {
    const entry = require.resolve(name);
    // Walk up from the entry point to the package's own package.json.
    let dir = dirname(entry);
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name) return pkg.version;
      } catch {}
      dir = dirname(dir);
    }
  } catch {}
  return undefined;
}

/** Waits until `done()` or the deadline, polling every `everyMs`. */
async function until(done: () => boolean, deadlineMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!done() && Date.now() < end) await sleep(everyMs);
  return done();
}

const kafkajs: ClientDriver = {
  name: 'kafkajs',
  clientId: 'golden-kafkajs',
  topic: 'golden-kafkajs',
  group: 'golden-kafkajs-group',
  version: () => packageVersion('kafkajs'),
  run(bootstrap, budgetMs) {
    return bounded(budgetMs, async (step) => {
      const { Kafka, logLevel } = await import('kafkajs');
      const kafka = new Kafka({
        clientId: this.clientId,
        brokers: [bootstrap],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        requestTimeout: 5000,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
      });
      const admin = kafka.admin();
      await admin.connect();
      step('connect');
      await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 3 }], waitForLeaders: true });
      step('create-topic');
      await admin.fetchTopicMetadata({ topics: [this.topic] });
      step('metadata');
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({
        topic: this.topic,
        messages: MESSAGES.map((m) => ({ key: m.key, value: m.value, headers: { trace: m.header } })),
      });
      await producer.disconnect();
      step('produce');
      const consumer = kafka.consumer({
        groupId: this.group,
        sessionTimeout: 10000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 200,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      let received = 0;
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          received += 1;
          await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
        },
      });
      const all = await until(() => received >= MESSAGES.length, 15000);
      step(all ? 'consume' : `consume (${received} of ${MESSAGES.length})`);
      if (received > 0) step('commit');
      // Stay in the group past a heartbeat interval so a Heartbeat is sent too.
      await sleep(1200);
      await consumer.disconnect();
      step('leave');
      await admin.deleteTopics({ topics: [this.topic] });
      step('delete-topic');
      await admin.disconnect();
    });
  },
};

const platformatic: ClientDriver = {
  name: 'platformatic-kafka',
  clientId: 'golden-platformatic',
  topic: 'golden-platformatic',
  group: 'golden-platformatic-group',
  version: () => packageVersion('@platformatic/kafka'),
  run(bootstrap, budgetMs) {
    return bounded(budgetMs, async (step) => {
      const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await import(
        '@platformatic/kafka'
      );
      const base = {
        bootstrapBrokers: [bootstrap],
        retries: 2,
        retryDelay: 100,
        timeout: 5000,
        connectTimeout: 2000,
      };
      const admin = new Admin({ ...base, clientId: this.clientId });
      try {
        await admin.createTopics({ topics: [this.topic], partitions: 3, replicas: 1 });
        step('connect');
        step('create-topic');
        await admin.metadata({ topics: [this.topic] });
        step('metadata');
        const producer = new Producer({
          ...base,
          clientId: this.clientId,
          idempotent: true,
          serializers: stringSerializers,
        });
        try {
          await producer.send({
            messages: MESSAGES.map((m) => ({
              topic: this.topic,
              key: m.key,
              value: m.value,
              headers: { trace: m.header },
            })),
          });
          step('produce');
        } finally {
          await producer.close();
        }
        const consumer = new Consumer({
          ...base,
          clientId: this.clientId,
          groupId: this.group,
          deserializers: stringDeserializers,
        });
        try {
          const stream = await consumer.consume({
            topics: [this.topic],
            mode: 'committed',
            fallbackMode: 'earliest',
            autocommit: false,
            maxWaitTime: 200,
            sessionTimeout: 10000,
            heartbeatInterval: 500,
          });
          let received = 0;
          let committed = 0;
          stream.on('data', (message) => {
            received += 1;
            Promise.resolve(message.commit()).then(
              () => {
                committed += 1;
              },
              () => {},
            );
          });
          const all = await until(() => received >= MESSAGES.length, 15000);
          step(all ? 'consume' : `consume (${received} of ${MESSAGES.length})`);
          if (await until(() => committed >= received && received > 0, 5000)) step('commit');
          await sleep(1200);
          await stream.close();
        } finally {
          await consumer.close(true);
        }
        step('leave');
        await admin.deleteTopics({ topics: [this.topic] });
        step('delete-topic');
      } finally {
        await admin.close();
      }
    });
  },
};

/** Runs a child process with a hard time limit, collecting `STEP name` lines from its stdout. */
function runChild(
  command: string,
  args: string[],
  budgetMs: number,
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<DriverReport & { stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, budgetMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const finish = (error?: string) => {
      clearTimeout(timer);
      const steps = stdout
        .split('\n')
        .filter((l) => l.startsWith('STEP '))
        .map((l) => l.slice(5).trim());
      const report: DriverReport & { stdout: string; stderr: string } = { steps, stdout, stderr };
      if (error !== undefined) report.error = error;
      resolve(report);
    };
    child.on('error', (e) => finish(e.message));
    child.on('close', (code, signal) => {
      if (killed) finish(`killed after ${budgetMs} ms`);
      else if (code !== 0)
        finish(`exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      else finish();
    });
  });
}

/** Runs a version command; `format` turns the match of `pattern` into the version string. */
function commandVersion(
  command: string,
  args: string[],
  pattern: RegExp,
  format: (m: RegExpExecArray) => string = (m) => m[1]!,
): string | undefined {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 10000 });
  if (out.error !== undefined || out.status !== 0) return undefined;
  const m = pattern.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`);
  return m === null ? undefined : format(m);
}

const PYTHON = '/usr/bin/python3';

function pythonDriver(name: string, module: string, clientId: string, script: string): ClientDriver {
  const topic = `golden-${name}`;
  return {
    name,
    clientId,
    topic,
    group: `${topic}-group`,
    version: () =>
      commandVersion(
        PYTHON,
        [
          '-c',
          module === 'confluent_kafka'
            ? 'import confluent_kafka as c; print(c.version()[0] + " (librdkafka " + c.libversion()[0] + ")")'
            : `import ${module} as m; print(m.__version__)`,
        ],
        /^(\S.*)$/m,
      ),
    async run(bootstrap, budgetMs) {
      const r = await runChild(
        PYTHON,
        [join(here, script), bootstrap, clientId, topic, `${topic}-group`],
        budgetMs,
      );
      return r.error === undefined ? { steps: r.steps } : { steps: r.steps, error: r.error };
    },
  };
}

const kafkaPython = pythonDriver('kafka-python', 'kafka', 'golden-kafka-python', 'kafka-python-script.py');
const confluentKafkaPython = pythonDriver(
  'confluent-kafka-python',
  'confluent_kafka',
  'golden-confluent-kafka-python',
  'confluent-kafka-python-script.py',
);

const kcat: ClientDriver = {
  name: 'kcat',
  clientId: 'golden-kcat',
  topic: 'golden-kcat',
  group: 'golden-kcat-group',
  version: () =>
    commandVersion(
      'kcat',
      ['-V'],
      /Version (\S+) .*librdkafka (\S+?)[\s:]/,
      (m) => `${m[1]} (librdkafka ${m[2]})`,
    ),
  async run(bootstrap, budgetMs) {
    const end = Date.now() + budgetMs;
    const left = () => Math.max(1000, end - Date.now());
    const common = [
      '-b',
      bootstrap,
      '-X',
      `client.id=${this.clientId}`,
      '-X',
      'topic.metadata.refresh.interval.ms=-1',
    ];
    const report: DriverReport = { steps: [] };
    const stage = async (step: string, args: string[], input?: string) => {
      const r = await runChild('kcat', [...common, ...args], Math.min(left(), 20000), input);
      if (r.error !== undefined) throw new Error(`${step}: ${r.error}`);
      report.steps.push(step);
      return r.stdout;
    };
    try {
      await stage('metadata', ['-L', '-t', this.topic, '-X', 'allow.auto.create.topics=true']);
      // kcat has no admin commands: the producer's metadata request creates the topic.
      const lines = MESSAGES.map((m) => `${m.key}:${m.value}`).join('\n');
      await stage(
        'produce',
        ['-P', '-t', this.topic, '-K', ':', '-H', 'trace=h', '-X', 'enable.idempotence=true'],
        `${lines}\n`,
      );
      const out = await stage('consume', [
        '-G',
        this.group,
        '-e',
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'enable.auto.commit=true',
        '-X',
        'auto.commit.interval.ms=100',
        '-f',
        '%k:%s\n',
        this.topic,
      ]);
      const got = out.split('\n').filter((l) => l.startsWith('key-')).length;
      if (got < MESSAGES.length) report.steps.push(`consumed ${got} of ${MESSAGES.length}`);
      else report.steps.push('commit', 'leave');
    } catch (e) {
      report.error = (e as Error).message;
    }
    return report;
  },
};

export const DRIVERS: readonly ClientDriver[] = [
  kafkajs,
  platformatic,
  kcat,
  kafkaPython,
  confluentKafkaPython,
];
