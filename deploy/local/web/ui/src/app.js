// otp-local's sign-in page: password (SRP) then an emailed code, with AWS
// Amplify JS v6 talking to otp-local's Cognito endpoint exactly as it would
// talk to Cognito. The page only renders what the challenge parameters say;
// every rule (attempts, resends, expiry) lives in the triggers.
import { Amplify } from 'aws-amplify';
import { confirmSignIn, confirmSignUp, fetchAuthSession, resendSignUpCode, signIn, signOut, signUp } from 'aws-amplify/auth';
import { format, pickLanguage, table } from './strings.js';

const $ = (id) => document.getElementById(id);

// The tenant (its app client and template set) and the page's language,
// chosen in main() from the URL and the browser.
let t = table('en');
let lang = 'en';

const views = ['signin', 'signup', 'confirm', 'newpassword', 'code', 'home'];
function show(view) {
  for (const v of views) $(`view-${v}`).hidden = v !== view;
  const focus = { signin: 'username', signup: 'signup-name', confirm: 'confirm-code', newpassword: 'new-password', code: 'code' }[view];
  if (focus) $(focus).focus();
}

function setError(id, message) {
  const el = $(id);
  el.textContent = message || '';
  el.hidden = !message;
}

// setNotice shows good news (a new code, a new password) in the notice
// style, not the error one.
function setNotice(id, message, good) {
  const el = $(id);
  el.classList.toggle('notice', Boolean(good));
  el.classList.toggle('error', !good);
  setError(id, message);
}

// busy makes a form inert while a call is in flight. It leaves each
// control's own disabled state alone: the resend button stays disabled
// through its cooldown.
function busy(form, on) {
  form.inert = on;
}

// Cognito's answer to a refused sign-in is deliberately vague: a wrong
// password, an unverified address and a user the failure budget holds back
// all get the same NotAuthorizedException, so the page says what may have
// happened without claiming to know which. At the code step the page knows
// its own counts, and says which limit was reached.
function describe(err, context = {}) {
  switch (err?.name) {
    case 'NotAuthorizedException':
      if (/Password attempts exceeded/.test(err.message)) return t.passwordAttempts;
      if (stage !== 'code') return t.refused;
      if (context.expired) return t.codeExpired;
      if (context.resend && Number(challenge.resendsLeft || 0) === 0) return t.resendLimit;
      if (!context.resend && Number(challenge.attemptsLeft || 0) <= 1) return t.lastAttempt;
      return t.codeEnded;
    case 'UserLambdaValidationException':
      return t.sendFailed;
    case 'TooManyRequestsException':
      return t.tooMany;
    case 'UserNotConfirmedException':
      return t.notConfirmed;
    case 'InvalidPasswordException':
      return t.shortPassword;
    case 'PasswordResetRequiredException':
      return t.resetRequired;
    case 'UsernameExistsException':
      return t.accountExists;
    case 'CodeMismatchException':
      return t.badConfirmation;
    case 'ExpiredCodeException':
      return t.confirmationExpired;
    case 'LimitExceededException':
      return t.tooMany;
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

// challenge holds the latest public parameters, and when the code expires.
let challenge = {};
let expiresAt = 0;

// showChallenge renders the code step from the public challenge parameters
// the Create trigger returned.
function showChallenge(info, notice, good) {
  stage = 'code';
  clearTimers();
  challenge = info || {};
  const p = challenge;
  const length = Number(p.codeLength || 6);
  $('code-sent').textContent = format(t.codeSent, { email: p.email || '' });
  const code = $('code');
  code.value = '';
  code.disabled = false;
  code.maxLength = length + 4; // room for a space the user may type
  code.placeholder = '•'.repeat(length);
  code.dataset.length = String(length);
  $('attempts').textContent = p.attemptsLeft ? format(t.attemptsLeft, { n: p.attemptsLeft }) : '';
  setNotice('code-notice', notice || '', good);
  const resend = $('resend');
  const again = $('sign-in-again');
  const resendsLeft = Number(p.resendsLeft || 0);
  $('codes-left').textContent = format(t.codesLeft, { n: resendsLeft });
  expiresAt = Date.now() + Number(p.expiresInSeconds || 0) * 1000;
  again.hidden = true;
  $('verify').hidden = false;
  countdown(Number(p.expiresInSeconds || 0), (left) => {
    if (left > 0) {
      $('expiry').textContent = format(t.expiresIn, { time: mmss(left) });
      return;
    }
    // The session expires with the code, so a new code cannot be asked for:
    // the only way on is a new sign-in.
    $('expiry').textContent = t.expired;
    $('attempts').textContent = '';
    resend.hidden = true;
    $('codes-left').textContent = '';
    $('verify').hidden = true;
    code.disabled = true;
    again.hidden = false;
  });
  resend.hidden = false;
  if (resendsLeft <= 0) {
    resend.disabled = true;
    resend.textContent = t.noMoreCodes;
  } else {
    countdown(Number(p.resendInSeconds || 0), (left) => {
      resend.disabled = left > 0;
      resend.textContent = left > 0 ? format(t.resendIn, { seconds: left }) : t.resend;
    });
  }
  show('code');
}

async function showHome() {
  stage = 'home';
  clearTimers();
  const session = await fetchAuthSession();
  const claims = session.tokens?.idToken?.payload || {};
  $('welcome').textContent = format(t.welcome, { name: claims.name || claims.email || '' });
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
async function next(result, notice, good) {
  if (result.isSignedIn) return showHome();
  switch (result.nextStep?.signInStep) {
    case 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE':
      return showChallenge(result.nextStep.additionalInfo, notice, good);
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
    options: { authFlowType: 'CUSTOM_WITH_SRP', clientMetadata: { locale: lang } },
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
      await next(await startSignIn($('username').value.trim(), password), t.passwordSet, true);
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
  const expired = Date.now() >= expiresAt;
  try {
    const result = await confirmSignIn({ challengeResponse: answer });
    await next(result, t.wrongCode);
  } catch (err) {
    backToSignIn(describe(err, { expired }));
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
    await next(result, fresh ? t.newCode : t.waitForCode, fresh);
  } catch (err) {
    backToSignIn(describe(err, { resend: true }));
  } finally {
    busy(form, false);
  }
}

// Self sign-up, where the pool allows it: Cognito emails the confirmation
// code through the custom email sender, in the tenant's brand and the
// page's language (the locale attribute), and the page then signs in with
// the same password, so that the sign-in code follows at once.
let signUpName = '';
async function onSignUp(e) {
  e.preventDefault();
  const form = e.currentTarget;
  setError('signup-error', '');
  busy(form, true);
  const username = $('signup-email').value.trim();
  try {
    const attrs = { locale: lang };
    const name = $('signup-name').value.trim();
    if (name) attrs.name = name;
    const out = await signUp({ username, password: $('signup-password').value, options: { userAttributes: attrs } });
    signUpName = username;
    showConfirm(out.nextStep?.codeDeliveryDetails?.destination || username, '');
  } catch (err) {
    setError('signup-error', describe(err));
  } finally {
    busy(form, false);
  }
}

function showConfirm(destination, notice, good) {
  stage = 'confirm';
  $('confirm-sent').textContent = format(t.confirmSent, { email: destination });
  $('confirm-code').value = '';
  setNotice('confirm-notice', notice, good);
  show('confirm');
}

async function onConfirm(e) {
  e.preventDefault();
  const form = e.currentTarget;
  busy(form, true);
  try {
    await confirmSignUp({ username: signUpName, confirmationCode: $('confirm-code').value.trim() });
    $('username').value = signUpName;
    $('password').value = $('signup-password').value;
    await next(await startSignIn(signUpName, $('signup-password').value), t.confirmed, true);
    $('signup-password').value = '';
  } catch (err) {
    setNotice('confirm-notice', describe(err), false);
  } finally {
    busy(form, false);
  }
}

async function onResendConfirm() {
  const form = $('form-confirm');
  busy(form, true);
  try {
    const out = await resendSignUpCode({ username: signUpName });
    showConfirm(out.destination || signUpName, t.confirmResent, true);
  } catch (err) {
    setNotice('confirm-notice', describe(err), false);
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

// applyTenant brands the page as the tenant's emails are branded and
// writes its words in the chosen language.
function applyTenant(cfg, current) {
  const b = current.branding;
  const root = document.documentElement;
  const locale = b.locales.find((l) => l.tag === lang);
  root.lang = lang;
  root.dir = locale?.dir || 'ltr';
  if (b.accent) root.style.setProperty('--accent', b.accent);
  $('product').textContent = b.product;
  const logo = $('logo');
  if (b.logo) {
    const img = document.createElement('img');
    img.src = b.logo;
    img.alt = '';
    logo.replaceChildren(img);
  } else {
    logo.textContent = b.product.slice(0, 1).toUpperCase();
  }
  document.title = `${t.signInTitle} · ${b.product}`;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t[el.dataset.t];
  const outbox = document.createElement('a');
  outbox.href = '/outbox';
  outbox.target = '_blank';
  outbox.textContent = t.outbox;
  const [before, after] = t.outboxHint.split('{outbox}');
  for (const hint of document.querySelectorAll('.outbox-hint')) hint.replaceChildren(before, outbox.cloneNode(true), after || '');
  $('signup-offer').hidden = !cfg.selfSignUp;

  const picker = $('tenant');
  picker.replaceChildren();
  for (const c of cfg.tenants) {
    const o = document.createElement('option');
    o.value = c.tenant;
    o.textContent = c.branding.product;
    o.selected = c === current;
    picker.append(o);
  }
  const users = (cfg.demoUsers || []).filter((u) => !u.tenant || u.tenant === current.tenant);
  if (users.length) {
    $('demo-hint').replaceChildren(format(t.demoUsers, { password: users[0].password }));
    const list = document.createElement('ul');
    for (const u of users) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link inline';
      b.textContent = u.username;
      b.addEventListener('click', () => {
        $('username').value = u.username;
        $('password').value = u.password;
      });
      li.append(b, u.note ? ` · ${u.note}` : '');
      list.append(li);
    }
    $('demo-hint').append(list);
    $('username').value = users[0].username;
  }
}

async function main() {
  const cfg = await (await fetch('config.json')).json();
  const params = new URLSearchParams(location.search);
  const current = cfg.tenants.find((c) => c.tenant === params.get('tenant')) || cfg.tenants[0];
  lang = pickLanguage([params.get('lang'), ...(navigator.languages || [navigator.language])], current.branding.locales, current.branding.defaultLocale);
  t = table(lang);
  applyTenant(cfg, current);
  Amplify.configure({
    Auth: { Cognito: { userPoolId: cfg.userPoolId, userPoolClientId: current.clientId, userPoolEndpoint: cfg.endpoint } },
  });
  $('tenant').addEventListener('change', async (e) => {
    try {
      await signOut();
    } catch {
      // nothing to sign out of
    }
    const next = new URLSearchParams(location.search);
    next.set('tenant', e.target.value);
    location.search = next.toString();
  });
  $('form-signin').addEventListener('submit', onSignIn);
  $('form-newpassword').addEventListener('submit', onNewPassword);
  $('form-code').addEventListener('submit', onCode);
  $('resend').addEventListener('click', onResend);
  $('form-signup').addEventListener('submit', onSignUp);
  $('form-confirm').addEventListener('submit', onConfirm);
  $('resend-confirm').addEventListener('click', onResendConfirm);
  $('show-signup').addEventListener('click', () => {
    setError('signup-error', '');
    show('signup');
  });
  $('back-to-signin').addEventListener('click', () => backToSignIn(''));
  $('sign-in-again').addEventListener('click', () => backToSignIn(''));
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
