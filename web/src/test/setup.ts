// Every test file runs this first. On a loaded machine (CI builds beside the tests on two cores)
// a debounced estimate and its fetch can take over the 1 s `waitFor` gives by default, and a
// long form test over vitest's 5 s: waiting longer changes nothing for a test that passes and
// only delays one that fails.
import { configure } from '@testing-library/dom';

configure({ asyncUtilTimeout: 5000 });
