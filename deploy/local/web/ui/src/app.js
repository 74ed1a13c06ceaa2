// otp-local's sign-in page: password (SRP) then an emailed code, with AWS
// Amplify JS v6 talking to otp-local's Cognito endpoint exactly as it would
// talk to Cognito. The page only renders what the challenge parameters say;
// every rule (attempts, resends, expiry) lives in the triggers.
import { Amplify } from 'aws-amplify';
import { confirmSignIn, fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';

const $ = (id) => document.getElementById(id);

const views = ['signin', 'newpassword', 'code', 'home'];
function show(view) {
  for (const v of views) $(`view-${v}`).hidden = v !== view;
  const focus = { signin: 'username', newpassword: 'new-password', code: 'code' }[view];
  if (focus) $(focus).focus();
}

function setError(id, message) {
  const el = $(id);
  el.textContent = message || '';
  el.hidden = !message;
}

function busy(form, on) {
  for (const el of form.querySelectorAll('button, input')) el.disabled = on;
}

// Cognito's answer to a refused sign-in is deliberately vague; say what the
// user can do about it.
function describe(err) {
  switch (err?.name) {
    case 'NotAuthorizedException':
      if (/Password attempts exceeded/.test(err.message)) {
        return 'Too many wrong passwords. Wait a few minutes before you try again.';
      }
      return stage === 'code'
        ? 'That sign-in can no longer be completed (too many wrong codes, too many resends, or the code expired). Please sign in again.'
        : 'Incorrect email or password.';
    case 'InvalidPasswordException':
      return 'That password is too short: use at least 8 characters.';
    case 'PasswordResetRequiredException':
      return 'Your password was reset by an administrator. Ask them for a new one.';
    case 'UserLambdaValidationException':
      return 'We could not send you a code just now. Please try again in a moment.';
    case 'TooManyRequestsException':
      return 'Too many attempts. Please wait a moment and try again.';
    case 'UserNotConfirmedException':
      return 'Please confirm your account first.';
    default:
      return err?.message || String(err);
  }
}

let stage = 'signin';
let timers = [];
function clearTimers() {
  for (const t of timers) clearInterval(t);
  timers = [];
}

// countdown calls render(secondsLeft) every second until it reaches zero.
function countdown(seconds, render) {
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    render(left);
    return left;
  };
  if (tick() > 0) {
    const t = setInterval(() => {
      if (tick() === 0) clearInterval(t);
    }, 1000);
    timers.push(t);
  }
}

function mmss(s) {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// showChallenge renders the code step from the public challenge parameters
// the Create trigger returned.
function showChallenge(info, notice) {
  stage = 'code';
  clearTimers();
  const p = info || {};
  const length = Number(p.codeLength || 6);
  $('code-email').textContent = p.email || 'your email address';
  const code = $('code');
  code.value = '';
  code.maxLength = length + 4; // room for a space the user may type
  code.placeholder = '•'.repeat(length);
  code.dataset.length = String(length);
  $('attempts').textContent =
    p.attemptsLeft && Number(p.attemptsLeft) < 3 ? `${p.attemptsLeft} ${Number(p.attemptsLeft) === 1 ? 'attempt' : 'attempts'} left.` : '';
  setError('code-notice', notice || '');
  countdown(Number(p.expiresInSeconds || 0), (left) => {
    $('expiry').textContent = left > 0 ? `The code expires in ${mmss(left)}.` : 'The code has expired. Ask for a new one.';
  });
  const resend = $('resend');
  const resendsLeft = Number(p.resendsLeft || 0);
  if (resendsLeft <= 0) {
    resend.disabled = true;
    resend.textContent = 'No more codes can be sent';
  } else {
    countdown(Number(p.resendInSeconds || 0), (left) => {
      resend.disabled = left > 0;
      resend.textContent = left > 0 ? `Resend code in ${left}s` : 'Resend code';
    });
  }
  show('code');
}

async function showHome() {
  stage = 'home';
  clearTimers();
  const session = await fetchAuthSession();
  const claims = session.tokens?.idToken?.payload || {};
  $('welcome').textContent = `Welcome, ${claims.name || claims.email || 'friend'}!`;
  const table = $('claims');
  table.replaceChildren();
  for (const [k, v] of Object.entries(claims)) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    const td = document.createElement('td');
    th.textContent = k;
    td.textContent = typeof v === 'number' && /(^|_)(exp|iat|auth_time)$/.test(k) ? `${v} (${new Date(v * 1000).toISOString()})` : JSON.stringify(v);
    tr.append(th, td);
    table.append(tr);
  }
  show('home');
}

// next follows Amplify's nextStep after signIn or confirmSignIn.
async function next(result, notice) {
  if (result.isSignedIn) return showHome();
  switch (result.nextStep?.signInStep) {
    case 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE':
      return showChallenge(result.nextStep.additionalInfo, notice);
    case 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED':
      stage = 'newpassword';
      setError('newpassword-error', '');
      $('new-password').value = '';
      return show('newpassword');
  }
  throw new Error(`Unexpected sign-in step ${result.nextStep?.signInStep}`);
}

// startSignIn is the password step. The locale rides in clientMetadata,
// which Amplify sends on the password step's RespondToAuthChallenge too:
// that is the call whose metadata Cognito passes to Create (InitiateAuth's
// goes to no custom-auth trigger).
function startSignIn(username, password) {
  return signIn({
    username,
    password,
    options: { authFlowType: 'CUSTOM_WITH_SRP', clientMetadata: { locale: navigator.language || 'en' } },
  });
}

async function onSignIn(e) {
  e.preventDefault();
  const form = e.currentTarget;
  setError('signin-error', '');
  busy(form, true);
  try {
    try {
      await signOut();
    } catch {
      // nothing to sign out of
    }
    await next(await startSignIn($('username').value.trim(), $('password').value));
  } catch (err) {
    setError('signin-error', describe(err));
  } finally {
    busy(form, false);
  }
}

// onNewPassword answers Cognito's NEW_PASSWORD_REQUIRED (a password an
// administrator set). Cognito would then issue tokens without the emailed
// code; the Pre Token Generation trigger refuses them, so the page signs
// in again with the new password, and the user gets their code.
async function onNewPassword(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const password = $('new-password').value;
  setError('newpassword-error', '');
  busy(form, true);
  try {
    try {
      await next(await confirmSignIn({ challengeResponse: password }));
    } catch (err) {
      if (err?.name !== 'UserLambdaValidationException' || !/new password is set/.test(err.message)) throw err;
      await next(await startSignIn($('username').value.trim(), password), 'Your new password is set.');
    }
  } catch (err) {
    setError('newpassword-error', describe(err));
  } finally {
    busy(form, false);
  }
}

async function onCode(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const answer = $('code').value.trim();
  busy(form, true);
  try {
    const result = await confirmSignIn({ challengeResponse: answer });
    await next(result, 'That code is not right. Check the latest email and try again.');
  } catch (err) {
    backToSignIn(describe(err));
  } finally {
    busy(form, false);
    if (stage === 'code') $('code').focus();
  }
}

async function onResend() {
  const form = $('form-code');
  busy(form, true);
  try {
    const result = await confirmSignIn({
      challengeResponse: 'resend',
      options: { clientMetadata: { otp_action: 'resend' } },
    });
    const fresh = result.nextStep?.additionalInfo?.newCode === 'true';
    await next(result, fresh ? 'We sent you a new code. Earlier codes no longer work.' : 'Please wait a moment before asking for another code.');
  } catch (err) {
    backToSignIn(describe(err));
  } finally {
    busy(form, false);
  }
}

function backToSignIn(message) {
  stage = 'signin';
  clearTimers();
  setError('signin-error', message);
  show('signin');
}

async function main() {
  const cfg = await (await fetch('config.json')).json();
  Amplify.configure({
    Auth: { Cognito: { userPoolId: cfg.userPoolId, userPoolClientId: cfg.userPoolClientId, userPoolEndpoint: cfg.endpoint } },
  });
  if (cfg.demoUser) {
    $('username').value = cfg.demoUser.username;
    $('demo-hint').textContent = `Demo user: ${cfg.demoUser.username} / ${cfg.demoUser.password}`;
  }
  $('form-signin').addEventListener('submit', onSignIn);
  $('form-newpassword').addEventListener('submit', onNewPassword);
  $('form-code').addEventListener('submit', onCode);
  $('resend').addEventListener('click', onResend);
  $('start-over').addEventListener('click', () => backToSignIn(''));
  $('signout').addEventListener('click', async () => {
    await signOut();
    backToSignIn('');
  });
  $('code').addEventListener('input', (e) => {
    // Submit as soon as the code is complete, as mobile OTP fields do.
    const digits = e.target.value.replace(/\s/g, '');
    if (digits.length === Number(e.target.dataset.length) && /^\p{Nd}+$/u.test(digits)) $('form-code').requestSubmit();
  });
  try {
    const session = await fetchAuthSession();
    if (session.tokens?.idToken) return showHome();
  } catch {
    // not signed in
  }
  show('signin');
}

main().catch((err) => {
  document.body.dataset.error = String(err);
  setError('signin-error', `The page could not start: ${describe(err)}`);
  show('signin');
});
