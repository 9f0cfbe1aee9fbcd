/**
 * Facts of the whole note that complete a code when the sentence does not say them: the
 * patient's sex (female or male breast, prostate) and the encounter of a 7th character
 * (initial by default; subsequent or sequela when the note says so, knowledge/encounter-cues.tsv).
 */
import type { EncounterCue } from '../knowledge/knowledge';
import type { StreamWord } from '../finder/lexicon';

export type Encounter = 'initial' | EncounterCue['encounter'];

export interface NoteFacts {
  sex?: 'female' | 'male';
  encounter: Encounter;
}

const FEMALE = new Set(['she', 'her', 'hers', 'herself', 'woman', 'female', 'mrs', 'ms', 'girl', 'lady', 'mother']);
const MALE = new Set(['he', 'his', 'him', 'himself', 'man', 'male', 'mr', 'boy', 'gentleman']);

/**
 * @param stream - the note's words
 * @param cues - encounter cues, as normal-form word sequences
 */
export function noteFactsOf(stream: readonly StreamWord[], cues: readonly { words: string[]; encounter: Encounter }[]): NoteFacts {
  let female = 0;
  let male = 0;
  for (const w of stream) {
    if (FEMALE.has(w.norm)) female++;
    else if (MALE.has(w.norm)) male++;
  }
  // A clear majority only: a note about a woman quotes her husband now and then.
  const sex = female >= 2 && female >= 3 * male ? 'female' : male >= 2 && male >= 3 * female ? 'male' : undefined;
  let encounter: Encounter = 'initial';
  outer: for (let i = 0; i < stream.length; i++) {
    for (const cue of cues) {
      if (cue.words.every((w, k) => stream[i + k]?.norm === w)) {
        encounter = cue.encounter;
        break outer;
      }
    }
  }
  return { ...(sex ? { sex } : {}), encounter };
}
