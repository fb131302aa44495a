import { AuthForm } from './AuthForm';

export function SignupPage() {
  return <AuthForm key="signup" mode="signup" />;
}
