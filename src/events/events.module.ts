import { Module } from '@nestjs/common';
import { EventStreamService } from './event-stream.service.js';
import { EventsController } from './events.controller.js';

@Module({
  controllers: [EventsController],
  providers: [EventStreamService],
  exports: [EventStreamService],
})
export class EventsModule {}
