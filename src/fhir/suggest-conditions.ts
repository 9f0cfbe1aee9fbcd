/**
 * POST /fhir/DocumentReference/$suggest-conditions: Parameters (or a bare DocumentReference)
 * → notes and the `recordedCondition` inputs → codeEncounter (coding/code-encounter.ts) →
 * Bundle (collection) of suggested Conditions. Writes to no FHIR server. `suggestConditions`
 * is the operation without HTTP (the batch command calls it).
 */
import type {
  Bundle,
  BundleEntry,
  CodeSystem,
  Condition,
  DocumentReference,
  Encounter,
  OperationOutcomeIssue,
  Parameters,
  ParametersParameter,
  Patient,
  Reference,
} from '@medplum/fhirtypes';
import type { Setting } from '../assign/code-note';
import type { RequestHandler } from 'express';
import type { Services } from '../services';
import { codeEncounter } from '../coding/code-encounter';
import type { RecordedCode } from '../coding/recorded-codes';
import type { RuleFinding } from '../rules/findings';
import { badRequest, invalidResource, issue, outcomeOf, unprocessable } from '../errors';
import { ServerTiming } from '../http/server-timing';
import type { Note } from '../note/note';
import { referenceText } from '../store/audit';
import { documentReferenceOf, toCondition } from './condition';
import { settingOfEncounter } from './encounter-setting';
import { CODING_RULE_SYSTEM, FHIR_JSON } from './constants';
import { chooseDocuments, noteOf, typedIdOf } from './document-reference';
import { readInParameters } from './parameters';
import { modelDevice, suggestionProvenance } from './provenance';
import type { Profiles } from './profiles';
import { recordedCodesOf } from './recorded-conditions';
import { validateResource } from './validate';

export interface Inputs {
  /** The documents, each with its FHIRPath for error messages. */
  documents: { doc: DocumentReference; expression: string }[];
  /** The Conditions already recorded on the encounter (`recordedCondition`), likewise. */
  recorded: { condition: Condition; expression: string }[];
  /** `setting`, else the `encounter`'s class; undefined: the default (inpatient). */
  setting?: Setting;
}

/** The inputs of a request body (a bare DocumentReference has no recorded Conditions). */
export function inputsOf(body: unknown, profiles: Profiles): Inputs {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Request body must be a Parameters or DocumentReference resource', undefined, 'structure');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== 'Parameters' && resourceType !== 'DocumentReference') {
    throw badRequest('Request body must be a Parameters or DocumentReference resource', 'resourceType', 'structure');
  }
  const issues = validateResource(body, resourceType);
  if (issues.length > 0) throw invalidResource(issues);
  if (resourceType === 'DocumentReference') {
    return { documents: [{ doc: body as DocumentReference, expression: 'DocumentReference' }], recorded: [] };
  }

  const params = readInParameters(body as Parameters, profiles.suggestOperation);
  const all = (body as Parameters).parameter ?? [];
  const expression = (p: (typeof all)[number]) => `Parameters.parameter[${all.indexOf(p)}].resource`;
  return {
    documents: (params.get('document') ?? []).map((p) => ({ doc: p.resource as DocumentReference, expression: expression(p) })),
    recorded: (params.get('recordedCondition') ?? []).map((p) => ({ condition: p.resource as Condition, expression: expression(p) })),
    setting: settingOf(params.get('setting')?.[0], params.get('encounter')?.[0]?.resource as Encounter | undefined, expression),
  };
}

/** The `setting` parameter (inpatient or outpatient), else the encounter's class. */
function settingOf(
  param: ParametersParameter | undefined,
  encounter: Encounter | undefined,
  expression: (p: ParametersParameter) => string,
): Setting | undefined {
  if (param) {
    if (param.valueCode !== 'inpatient' && param.valueCode !== 'outpatient')
      throw badRequest('Parameter "setting" must be inpatient or outpatient', expression(param).replace(/\.resource$/, '.valueCode'), 'value');
    return param.valueCode;
  }
  return settingOfEncounter(encounter);
}

/**
 * Recorded Conditions must be about the documents' patient and, when both name one, their
 * encounter: a delta against another patient's or stay's diagnoses would be wrong.
 * @throws OperationOutcomeError 422 business-rule naming the Condition
 */
function checkRecorded(recorded: Inputs['recorded'], subject: Reference<Patient>, encounter: Reference | undefined): void {
  const key = (r: Reference | undefined) => (r ? (typedIdOf(r) ?? (r.identifier ? JSON.stringify(r.identifier) : undefined)) : undefined);
  for (const { condition, expression } of recorded) {
    if (key(condition.subject) === undefined || key(condition.subject) !== key(subject)) {
      throw unprocessable('A recordedCondition must be about the patient of the documents (subject)', 'business-rule', `${expression}.subject`);
    }
    const own = typedIdOf(condition.encounter);
    if (own && encounter && own !== typedIdOf(encounter)) {
      throw unprocessable('A recordedCondition must be recorded on the encounter of the documents', 'business-rule', `${expression}.encounter`);
    }
  }
}

/** The one patient all documents are about (Condition.subject is 1..1). */
function subjectOf(docs: { doc: DocumentReference; expression: string }[]): Reference<Patient> {
  const subjects = docs.map(({ doc, expression }) => {
    if (!doc.subject?.reference && !doc.subject?.identifier) {
      throw unprocessable('The document must name its patient in subject (it becomes Condition.subject)', 'required', `${expression}.subject`);
    }
    return doc.subject;
  });
  const key = (r: Reference) => typedIdOf(r) ?? JSON.stringify(r.identifier);
  if (new Set(subjects.map(key)).size > 1) {
    throw unprocessable('The documents are about different patients', 'business-rule', 'Parameters.parameter');
  }
  const { reference, identifier } = subjects[0];
  return reference ? { reference } : { identifier };
}

/**
 * A coding-rule finding as an OperationOutcome issue: warning, business-rule, the rule's code
 * in details, and the Bundle entries (or recordedCondition inputs) it concerns.
 * @param finding - the finding
 * @param conditionEntry - suggested code → its Bundle entry index
 * @param codingRules - the coding-rule CodeSystem
 */
function ruleIssue(finding: RuleFinding, conditionEntry: ReadonlyMap<string, number>, codingRules: CodeSystem): OperationOutcomeIssue {
  const concept = codingRules.concept?.find((c) => c.code === finding.rule);
  const expression = [
    ...finding.suggested.flatMap((code) => (conditionEntry.has(code) ? [`Bundle.entry[${conditionEntry.get(code)}].resource`] : [])),
    ...finding.recorded.flatMap((r) => ((r as RecordedCode).expression ? [(r as RecordedCode).expression!] : [])),
  ];
  return {
    severity: 'warning',
    code: 'business-rule',
    details: { coding: [{ system: CODING_RULE_SYSTEM, code: finding.rule, ...(concept?.display ? { display: concept.display } : {}) }], text: finding.text },
    ...(expression.length > 0 ? { expression } : {}),
  };
}

/** What the operation needs: the coding use case's dependencies, the limits, ids and clock (no HTTP: the batch command builds them too). */
export type SuggestConditionsDeps = Pick<Services, 'suggestions' | 'store' | 'log' | 'model' | 'now' | 'newId' | 'codeSet' | 'rules'> & {
  config: Pick<Services['config'], 'maxBodyBytes' | 'maxNoteChars'>;
};

/** Who called, for the audit trail and the logs. */
export interface SuggestConditionsCall {
  requestId: string;
  /** The audited service name (default: the operation's). */
  service?: string;
}

/**
 * The operation without HTTP: a Parameters or DocumentReference body in, the Bundle of
 * suggested Conditions out, audited once (codeEncounter). The HTTP handler and the batch
 * command (`npm run code`, cli/code.ts) both call it, so their outputs are the same.
 * @param deps - coding dependencies, limits, ids and clock
 * @param profiles - loaded definitions (the OperationDefinition drives parameter reading)
 * @param body - the parsed request body
 * @param call - the request id (and service name) for the audit trail
 * @param timing - collects the stage times (Server-Timing)
 * @throws OperationOutcomeError for a body that cannot be used (4xx) or work that cannot be done now (503)
 */
export async function suggestConditions(
  deps: SuggestConditionsDeps,
  profiles: Profiles,
  body: unknown,
  call: SuggestConditionsCall,
  timing: ServerTiming = new ServerTiming(),
): Promise<Bundle> {
  return suggestConditionsFor(deps, profiles, inputsOf(body, profiles), call, timing);
}

/**
 * The same, from inputs already read: bulk jobs (jobs/code-document.ts) build one document's
 * inputs, so a job's suggestions for a document are those of a synchronous call with it.
 * @param inputs - the documents, recorded Conditions and setting
 * @throws OperationOutcomeError 422 when no document can be used, or the documents disagree
 */
export async function suggestConditionsFor(
  deps: SuggestConditionsDeps,
  profiles: Profiles,
  inputs: Inputs,
  call: SuggestConditionsCall,
  timing: ServerTiming = new ServerTiming(),
): Promise<Bundle> {
  const { config, model } = deps;
  const { documents: requested, recorded, setting } = inputs;
  const choice = chooseDocuments(requested.map((r) => r.doc));
  const warnings: OperationOutcomeIssue[] = choice.notices.map((n) =>
    issue('warning', n.skipped ? 'business-rule' : 'informational', n.text, requested[n.index].expression),
  );
  if (choice.use.length === 0) {
    throw unprocessable('No document can be used: every document is entered-in-error or replaced', 'business-rule');
  }
  const used = choice.use.map((i) => requested[i]);
  const subject = subjectOf(used);
  const encounterRef = used.map(({ doc }) => doc.context?.encounter?.find((e) => typedIdOf(e)?.startsWith('Encounter/'))).find(Boolean);
  checkRecorded(recorded, subject, encounterRef);
  const options = { maxBytes: config.maxBodyBytes, maxNoteChars: config.maxNoteChars };
  const notes: Note[] = [];
  for (const { doc, expression } of used) notes.push(await timing.time('decode', () => noteOf(doc, options, expression)));

  // No deadline: this is the call a system makes when the note is signed; it waits, and
  // fills the result cache for the hook.
  return codeEncounter(
    deps,
    {
      notes,
      recorded: { codes: recorded.flatMap((r) => recordedCodesOf([r.condition]).map((code) => ({ ...code, expression: r.expression }))), known: true },
      ...(setting ? { setting } : {}),
      call: {
        requestId: call.requestId,
        edge: 'fhir',
        service: call.service ?? 'DocumentReference/$suggest-conditions',
        patient: referenceText(subject),
        encounter: encounterRef ? typedIdOf(encounterRef) : undefined,
      },
    },
    (coding) => {
      if (coding.status !== 'coded') throw new Error('analysis without a deadline did not finish');
      timing.addAnalysis(coding.timings);
      const serializeStarted = performance.now();
      const shown = coding.suggestions.map(() => ({ suggestionId: '' }));
      const entries: BundleEntry[] = coding.suggestions.map((suggestion, i) => {
        const id = deps.newId();
        shown[i].suggestionId = id;
        return {
          fullUrl: `urn:uuid:${id}`,
          resource: toCondition(suggestion, {
            subject,
            encounter: encounterRef ? { reference: typedIdOf(encounterRef) } : undefined,
            model,
            suggestionId: id,
            notes,
          }),
        };
      });
      if (entries.length > 0) {
        const device = `urn:uuid:${deps.newId()}`;
        const targets = entries.map((e) => e.fullUrl!);
        const sources = notes.map((note) => documentReferenceOf(note.source));
        entries.push(
          { fullUrl: device, resource: modelDevice(model) },
          { fullUrl: `urn:uuid:${deps.newId()}`, resource: suggestionProvenance(targets, device, sources, deps.now()) },
        );
      }
      // One OperationOutcome: the document notices, then one issue per coding-rule finding.
      const conditionEntry = new Map(coding.suggestions.map((s, i) => [s.code, i]));
      const issues = [...warnings, ...coding.findings.map((f) => ruleIssue(f, conditionEntry, profiles.codingRules))];
      if (issues.length > 0) {
        entries.push({ fullUrl: `urn:uuid:${deps.newId()}`, resource: outcomeOf(issues) });
      }
      const output: Bundle = {
        resourceType: 'Bundle',
        id: deps.newId(),
        type: 'collection',
        timestamp: deps.now().toISOString(),
        ...(entries.length > 0 ? { entry: entries } : {}),
      };
      timing.add('serialize', performance.now() - serializeStarted);
      // The operation call is identified by the id of the Bundle it returns.
      return { output, shown, callId: output.id };
    },
  );
}

/**
 * @param services - app services (config, classifier, ids, clock)
 * @param profiles - loaded definitions (the OperationDefinition drives parameter reading)
 */
export function suggestConditionsHandler(services: Services, profiles: Profiles): RequestHandler {
  return async (req, res) => {
    const timing = new ServerTiming();
    const bundle = await suggestConditions(services, profiles, req.body, { requestId: res.locals.requestId }, timing);
    const text = await timing.time('serialize', () => JSON.stringify(bundle));
    res.setHeader('Server-Timing', timing.header());
    res.status(200).type(FHIR_JSON).send(text);
  };
}
