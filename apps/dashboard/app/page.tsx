import { LaunchForm } from '../src/components/LaunchForm';
import { SweepsTable } from '../src/components/SweepsTable';

export default function HomePage() {
  return (
    <div className="home">
      <SweepsTable />
      <LaunchForm />
    </div>
  );
}
