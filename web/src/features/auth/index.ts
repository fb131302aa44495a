export { LoginPage } from './LoginPage';
export { SignupPage } from './SignupPage';
export { useLogout } from './api';
