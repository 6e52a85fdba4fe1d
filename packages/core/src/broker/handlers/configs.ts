import {
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  type AlterConfigsResponseAlterConfigsResourceResponse,
  createAlterConfigsResponse,
  createDescribeConfigsResponse,
  createIncrementalAlterConfigsResponse,
  type DescribeConfigsRequest,
  type DescribeConfigsRequestDescribeConfigsResource,
  type DescribeConfigsResponse,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
  ErrorCode,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
  type IncrementalAlterConfigsResponse,
} from '@tributary/codec';
import { UnknownPartitionError } from '../../storage/index.js';
import { BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, brokerConfigSynonyms } from '../broker-configs.js';
import type { RequestContext } from '../request-context.js';
import type { BrokerServices } from '../services.js';
import {
  ConfigSource,
  ConfigType,
  TOPIC_CONFIG_BY_NAME,
  TOPIC_CONFIGS,
  type TopicConfigDef,
  validateTopicConfigs,
} from '../topic-configs.js';
import { type Topic, topicNameProblem } from '../topics.js';

/** Kafka's ConfigResource.Type ids. */
export const ResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** Kafka's AlterConfigOp.OpType ids (IncrementalAlterConfigs). */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

const OPERATION_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

/** An answer for one resource: an error code and its message. */
class ResourceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: number, message: string): never {
  throw new ResourceError(code, message);
}

/** A node id as Kafka reads one: optional sign, decimal digits, within int32; else null. */
function parseNodeId(name: string): number | null {
  if (!/^[+-]?\d+$/.test(name)) return null;
  const n = Number(name);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** The rule Kafka applies before it alters a BROKER or BROKER_LOGGER resource named by id. */
function requireThisNode(s: BrokerServices, name: string): void {
  const id = parseNodeId(name);
  if (id === null) fail(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`);
  if (id !== s.config.nodeId)
    fail(
      ErrorCode.INVALID_REQUEST,
      `Unexpected broker id, expected ${s.config.nodeId}, but received ${name}`,
    );
}

/** A topic resource's name: Kafka refuses the empty (default) topic resource, then illegal names. */
function requireTopicName(name: string): void {
  if (name === '') fail(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
  const problem = topicNameProblem(name);
  if (problem !== null) fail(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
}

function unsupportedResourceType(type: number): never {
  return fail(ErrorCode.INVALID_REQUEST, `Unknown resource type ${type}`);
}

// ---------------------------------------------------------------------------------------------
// DescribeConfigs

interface DescribeOptions {
  readonly synonyms: boolean;
  readonly documentation: boolean;
}

function topicConfigEntry(
  s: BrokerServices,
  topic: Topic,
  d: TopicConfigDef,
  options: DescribeOptions,
): DescribeConfigsResponseDescribeConfigsResourceResult {
  const override = topic.configs[d.name];
  const brokerDef = d.brokerName === null ? undefined : BROKER_CONFIG_BY_NAME.get(d.brokerName);
  // The topic's own override first, then the broker setting it falls back to.
  const chain = [
    ...(override !== undefined ? [{ name: d.name, value: override, source: ConfigSource.TOPIC_CONFIG }] : []),
    ...(brokerDef !== undefined ? brokerConfigSynonyms(brokerDef, s.config) : []),
  ];
  return {
    name: d.name,
    value: override ?? d.defaultValue(s.config),
    readOnly: false,
    configSource: chain[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    isSensitive: false,
    synonyms: options.synonyms ? chain : [],
    configType: d.type,
    documentation: options.documentation ? d.documentation : null,
  };
}

function describeTopic(
  s: BrokerServices,
  resource: DescribeConfigsRequestDescribeConfigsResource,
  options: DescribeOptions,
): DescribeConfigsResponseDescribeConfigsResourceResult[] {
  const problem = topicNameProblem(resource.resourceName);
  if (problem !== null) fail(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const topic = s.topics.byName(resource.resourceName);
  // Kafka answers an unknown topic here with the code alone.
  if (topic === undefined) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, '');
  return TOPIC_CONFIGS.filter(keyFilter(resource)).map((d) => topicConfigEntry(s, topic, d, options));
}

function describeBroker(
  s: BrokerServices,
  resource: DescribeConfigsRequestDescribeConfigsResource,
  options: DescribeOptions,
): DescribeConfigsResponseDescribeConfigsResourceResult[] {
  const name = resource.resourceName;
  // The empty name is the cluster-wide default resource: it holds only dynamic defaults, and
  // Tributary has no dynamic broker configs.
  if (name === '') return [];
  const id = parseNodeId(name);
  if (id === null) fail(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`);
  if (id !== s.config.nodeId)
    fail(
      ErrorCode.INVALID_REQUEST,
      `Unexpected broker id, expected ${s.config.nodeId} or empty string, but received ${name}`,
    );
  return BROKER_CONFIGS.filter(keyFilter(resource)).map((d) => {
    const chain = brokerConfigSynonyms(d, s.config);
    return {
      name: d.name,
      value: d.value(s.config),
      // No broker setting can change while the broker runs.
      readOnly: true,
      configSource: chain[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: options.synonyms ? chain : [],
      configType: d.type,
      documentation: options.documentation ? d.documentation : null,
    };
  });
}

function describeBrokerLogger(
  s: BrokerServices,
  name: string,
): DescribeConfigsResponseDescribeConfigsResourceResult[] {
  if (name === '') fail(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
  const id = parseNodeId(name);
  if (id === null) fail(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`);
  if (id !== s.config.nodeId)
    fail(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${s.config.nodeId} but received ${name}`);
  // Tributary's logger is injected and has no runtime-adjustable loggers to list.
  return [];
}

/** Kafka's configurationKeys rule: null or empty lists everything, otherwise only the names given. */
function keyFilter(
  resource: DescribeConfigsRequestDescribeConfigsResource,
): (d: { name: string }) => boolean {
  const keys = resource.configurationKeys;
  if (keys === null || keys.length === 0) return () => true;
  const wanted = new Set(keys);
  return (d) => wanted.has(d.name);
}

export function handleDescribeConfigs(
  s: BrokerServices,
  _ctx: RequestContext,
  req: DescribeConfigsRequest,
): DescribeConfigsResponse {
  const options = { synonyms: req.includeSynonyms, documentation: req.includeDocumentation };
  const results = req.resources.map((resource): DescribeConfigsResponseDescribeConfigsResult => {
    const result: DescribeConfigsResponseDescribeConfigsResult = {
      errorCode: ErrorCode.NONE,
      errorMessage: '',
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      configs: [],
    };
    try {
      switch (resource.resourceType) {
        case ResourceType.TOPIC:
          return { ...result, configs: describeTopic(s, resource, options) };
        case ResourceType.BROKER:
          return { ...result, configs: describeBroker(s, resource, options) };
        case ResourceType.BROKER_LOGGER:
          return { ...result, configs: describeBrokerLogger(s, resource.resourceName) };
        default:
          return unsupportedResourceType(resource.resourceType);
      }
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      return { ...result, errorCode: e.code, errorMessage: e.message };
    }
  });
  return createDescribeConfigsResponse({ results });
}

// ---------------------------------------------------------------------------------------------
// AlterConfigs and IncrementalAlterConfigs

interface AlterableResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

type ResourceResponse = AlterConfigsResponseAlterConfigsResourceResponse;

/**
 * Answers each resource in request order. Checks common to both APIs come first, as Kafka's
 * broker applies them before anything is forwarded: a resource named twice, a key named twice
 * within a resource, null values.
 */
async function alterEach<R extends AlterableResource>(
  resources: readonly R[],
  nullAllowed: (config: R['configs'][number]) => boolean,
  alter: (resource: R) => Promise<void>,
): Promise<ResourceResponse[]> {
  const seen = new Map<string, number>();
  const key = (r: R) => `${r.resourceType}:${r.resourceName}`;
  for (const r of resources) seen.set(key(r), (seen.get(key(r)) ?? 0) + 1);
  return Promise.all(
    resources.map(async (r): Promise<ResourceResponse> => {
      const response = {
        errorCode: ErrorCode.NONE,
        errorMessage: null as string | null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      };
      try {
        if (seen.get(key(r))! > 1) fail(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
        const names = r.configs.map((c) => c.name);
        if (new Set(names).size !== names.length)
          fail(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
        const nulls = r.configs.filter((c) => c.value === null && !nullAllowed(c)).map((c) => c.name);
        if (nulls.length > 0)
          fail(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
        await alter(r);
        return response;
      } catch (e) {
        if (!(e instanceof ResourceError)) throw e;
        return { ...response, errorCode: e.code, errorMessage: e.message };
      }
    }),
  );
}

/**
 * A change to broker settings: Tributary's are all static (read at start), so naming any of them
 * gets Kafka's answer for a static config. Deleting dynamic values finds none and succeeds.
 */
function alterBroker(s: BrokerServices, name: string, changed: readonly string[]): void {
  if (name !== '') requireThisNode(s, name);
  if (changed.length > 0)
    fail(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: Set(${changed.join(', ')})`);
}

/** Validates a topic's complete new override set, then the topic's existence, then stores it. */
async function replaceTopicConfigs(
  s: BrokerServices,
  name: string,
  configs: Record<string, string>,
  validateOnly: boolean,
): Promise<void> {
  requireTopicName(name);
  const problem = validateTopicConfigs(configs);
  if (problem !== null) fail(ErrorCode.INVALID_CONFIG, problem);
  const topic = s.topics.byName(name);
  if (topic === undefined) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
  if (validateOnly) return;
  try {
    await s.topics.setConfigs(topic, configs);
  } catch (e) {
    // Deleted while this request waited.
    if (!(e instanceof UnknownPartitionError)) throw e;
    fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
  }
}

export async function handleAlterConfigs(
  s: BrokerServices,
  _ctx: RequestContext,
  req: AlterConfigsRequest,
): Promise<AlterConfigsResponse> {
  const responses = await alterEach(
    req.resources,
    () => false,
    async (r) => {
      switch (r.resourceType) {
        case ResourceType.TOPIC: {
          // AlterConfigs replaces the whole override set: anything not named reverts to its default.
          const configs: Record<string, string> = {};
          for (const c of r.configs) configs[c.name] = c.value!;
          return replaceTopicConfigs(s, r.resourceName, configs, req.validateOnly);
        }
        case ResourceType.BROKER:
          return alterBroker(
            s,
            r.resourceName,
            r.configs.map((c) => c.name),
          );
        default:
          // BROKER_LOGGER included: only IncrementalAlterConfigs sets log levels.
          return unsupportedResourceType(r.resourceType);
      }
    },
  );
  return createAlterConfigsResponse({ responses });
}

/** Splits a list config's value as Kafka does for APPEND and SUBTRACT, dropping empty items. */
const listItems = (value: string): string[] => value.split(',').filter((v) => v !== '');

function applyIncrementalTopicChanges(
  s: BrokerServices,
  current: Readonly<Record<string, string>>,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const c of r.configs) {
    switch (c.configOperation) {
      case ConfigOperation.SET:
        next[c.name] = c.value!;
        break;
      case ConfigOperation.DELETE:
        delete next[c.name];
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT: {
        const d = TOPIC_CONFIG_BY_NAME.get(c.name);
        const op = OPERATION_NAMES[c.configOperation];
        if (d === undefined || d.type !== ConfigType.LIST)
          fail(ErrorCode.INVALID_CONFIG, `Can't ${op} to key ${c.name} because its type is not LIST.`);
        const items = listItems(next[c.name] ?? d.defaultValue(s.config));
        for (const item of listItems(c.value!)) {
          const at = items.indexOf(item);
          if (c.configOperation === ConfigOperation.APPEND && at < 0) items.push(item);
          if (c.configOperation === ConfigOperation.SUBTRACT && at >= 0) items.splice(at, 1);
        }
        next[c.name] = items.join(',');
        break;
      }
      default:
        fail(ErrorCode.INVALID_REQUEST, `Unknown operations type ${c.configOperation}`);
    }
  }
  return next;
}

/** Log levels: Tributary's logger is injected, so there is no named logger to adjust. */
function alterBrokerLogger(s: BrokerServices, r: IncrementalAlterConfigsRequestAlterConfigsResource): void {
  requireThisNode(s, r.resourceName);
  for (const c of r.configs) {
    switch (c.configOperation) {
      case ConfigOperation.SET:
      case ConfigOperation.DELETE:
        fail(ErrorCode.INVALID_CONFIG, `Logger ${c.name} does not exist!`);
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT:
        fail(
          ErrorCode.INVALID_REQUEST,
          `${OPERATION_NAMES[c.configOperation]} operation is not allowed for the BROKER_LOGGER resource`,
        );
        break;
      default:
        fail(
          ErrorCode.INVALID_REQUEST,
          `Unknown operation type ${c.configOperation} is not allowed for the BROKER_LOGGER resource`,
        );
    }
  }
}

export async function handleIncrementalAlterConfigs(
  s: BrokerServices,
  _ctx: RequestContext,
  req: IncrementalAlterConfigsRequest,
): Promise<IncrementalAlterConfigsResponse> {
  const responses = await alterEach(
    req.resources,
    (c) => c.configOperation === ConfigOperation.DELETE,
    async (r) => {
      switch (r.resourceType) {
        case ResourceType.TOPIC: {
          const existing = s.topics.byName(r.resourceName);
          const next = applyIncrementalTopicChanges(s, existing?.configs ?? {}, r);
          return replaceTopicConfigs(s, r.resourceName, next, req.validateOnly);
        }
        case ResourceType.BROKER: {
          const unknown = r.configs.find((c) => OPERATION_NAMES[c.configOperation] === undefined);
          if (r.resourceName !== '') requireThisNode(s, r.resourceName);
          if (unknown !== undefined)
            fail(ErrorCode.INVALID_REQUEST, `Unknown operations type ${unknown.configOperation}`);
          return alterBroker(
            s,
            r.resourceName,
            r.configs.filter((c) => c.configOperation !== ConfigOperation.DELETE).map((c) => c.name),
          );
        }
        case ResourceType.BROKER_LOGGER:
          return alterBrokerLogger(s, r);
        default:
          return unsupportedResourceType(r.resourceType);
      }
    },
  );
  return createIncrementalAlterConfigsResponse({ responses });
}
